package demo

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

// checks counts the password checks (Check calls) since start.
var checks atomic.Int64

// startDebug serves the attack suite's probe (e2e/attack) when
// AXES_DEMO_DEBUG_ADDR is set (such as 127.0.0.1:0): on that separate
// address, GET /debug/checks answers {"checks":N,"goroutines":N,
// "heap_inuse":BYTES}, so that a test can count the password checks that
// got through. It prints "debug on http://HOST:PORT". Never set it in
// production.
func startDebug() error {
	addr := os.Getenv("AXES_DEMO_DEBUG_ADDR")
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo: AXES_DEMO_DEBUG_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/checks", func(w http.ResponseWriter, r *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"checks": checks.Load(), "goroutines": runtime.NumGoroutine(), "heap_inuse": ms.HeapInuse})
	})
	fmt.Printf("debug on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return nil
}
