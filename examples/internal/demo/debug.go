package demo

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// checks counts the password checks (Check calls) since start.
var checks atomic.Int64

// Per-username password checks, kept only while the debug probe is on
// (debugOn): a map of at most maxCheckedUsers names, each cut to
// maxCheckedName bytes, so that a spray of usernames cannot grow it.
// Checks of names past the cap count under otherUsers.
const (
	maxCheckedUsers = 1024
	maxCheckedName  = 64
	otherUsers      = "(other)"
)

var (
	debugOn    atomic.Bool
	checksMu   sync.Mutex
	userChecks = map[string]int64{}
)

// countCheck counts a password check of username for the probe.
func countCheck(username string) {
	if !debugOn.Load() {
		return
	}
	if len(username) > maxCheckedName {
		username = username[:maxCheckedName]
	}
	checksMu.Lock()
	defer checksMu.Unlock()
	if _, ok := userChecks[username]; !ok && len(userChecks) >= maxCheckedUsers {
		username = otherUsers
	}
	userChecks[strings.Clone(username)]++
}

// checksByUser is a copy of the per-username check counts.
func checksByUser() map[string]int64 {
	checksMu.Lock()
	defer checksMu.Unlock()
	return maps.Clone(userChecks)
}

// startDebug serves the attack suite's probe (e2e/attack) when
// AXES_DEMO_DEBUG_ADDR is set (such as 127.0.0.1:0): on that separate
// address, GET /debug/checks answers {"checks":N,"checks_by_user":
// {"alice":N,…},"goroutines":N,"heap_inuse":BYTES}, so that a test can
// count the password checks that got through, in all and per username
// (the name as the login handler passed it to Check). It prints "debug on
// http://HOST:PORT". Never set it in production.
func startDebug() error {
	addr := os.Getenv("AXES_DEMO_DEBUG_ADDR")
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo: AXES_DEMO_DEBUG_ADDR: %w", err)
	}
	debugOn.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/checks", func(w http.ResponseWriter, r *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"checks": checks.Load(), "checks_by_user": checksByUser(),
			"goroutines": runtime.NumGoroutine(), "heap_inuse": ms.HeapInuse})
	})
	fmt.Printf("debug on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return nil
}
