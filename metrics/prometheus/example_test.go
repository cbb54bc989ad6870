package axesprom_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/goaxes/axes/core"
	axesprom "github.com/goaxes/axes/metrics/prometheus"
)

// Count the engine's events, time its store and serve /metrics.
func Example() {
	reg := prometheus.NewRegistry()
	metrics, err := axesprom.New(reg, axesprom.Options{})
	if err != nil {
		panic(err)
	}
	cfg := core.DefaultConfig()
	cfg.Logger = discard()
	cfg.Events = core.Events{metrics} // chain your own handlers here
	cfg.Store = axesprom.InstrumentStore(core.NewMemoryStore(core.MemoryOptions{}), metrics)
	engine, err := core.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := metrics.WatchLockedClients(engine, axesprom.LockedClientsOptions{}); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})) // protect it as you would /admin

	for range 4 {
		engine.ReportFailure(context.Background(), &core.Request{RemoteAddr: "203.0.113.7", Username: "alice"})
	}
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP axes_lockouts_total Login failures that locked a client out (django-axes' user_locked_out).
# TYPE axes_lockouts_total counter
axes_lockouts_total 1
# HELP axes_locked_clients Clients locked out now, counted over the newest attempt records (refreshed every few seconds).
# TYPE axes_locked_clients gauge
axes_locked_clients 1
`), "axes_lockouts_total", "axes_locked_clients")
	fmt.Println(err)
	// Output:
	// <nil>
}
