package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/goaxes/axes/core"
)

// Workloads: one hot key, 1,000 and 1,000,000 distinct keys (each already
// tracked), and a never-seen key per operation (an attacker rotating
// addresses).
type workload struct {
	name string
	keys int // 0: a new key per operation
}

var (
	hot       = workload{"hot", 1}
	keys1k    = workload{"keys=1k", 1_000}
	keys1M    = workload{"keys=1M", 1_000_000}
	newKeys   = workload{"new", 0}
	workloads = []workload{hot, keys1k, keys1M}
)

// peerLimit is "5 failures per key per window" for the peers; our engine
// is configured to the same limit where a path needs a lockout.
const peerLimit = 5

// ip returns the i-th IPv4 address of 10.0.0.0/8 (i < 1<<24).
func ip(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
}

// newIP returns the i-th address of a distinct IPv6 /64: a never-seen
// lockout key for each i, as an attacker rotating allocations makes them.
func newIP(i int) string {
	return fmt.Sprintf("2001:db8:%x:%x::1", i>>16&0xffff, i&0xffff)
}

var keyCache struct {
	sync.Mutex
	ips, addrs map[int][]string // by count: the peers' keys, RemoteAddrs
}

// keySet returns n distinct client IPs (the peers' keys) and the matching
// socket peers ("ip:port", our Request.RemoteAddr); built once per n. v6
// makes each a new IPv6 /64 (newIP) instead of an IPv4 address.
func keySet(n int, v6 bool) (ips, addrs []string) {
	keyCache.Lock()
	defer keyCache.Unlock()
	if keyCache.ips == nil {
		keyCache.ips, keyCache.addrs = map[int][]string{}, map[int][]string{}
	}
	id := n
	if v6 {
		id = -n
	}
	if ips, ok := keyCache.ips[id]; ok {
		return ips, keyCache.addrs[id]
	}
	ips, addrs = make([]string, n), make([]string, n)
	for i := range n {
		if v6 {
			ips[i] = newIP(i)
			addrs[i] = "[" + ips[i] + "]:40000"
		} else {
			ips[i] = ip(i)
			addrs[i] = ips[i] + ":40000"
		}
	}
	keyCache.ips[id], keyCache.addrs[id] = ips, addrs
	return ips, addrs
}

// newKeyPool is how many never-seen keys a "new" benchmark can use; run
// those with -benchtime at most this many iterations.
const newKeyPool = 1 << 21

func newKeySet() (ips, addrs []string) { return keySet(newKeyPool, true) }

// fixture caches one expensive set-up (a store holding a million keys) at
// a time: the benchmark ramp calls a function several times, and holding
// every fixture at once would make the garbage collector's work part of
// every later measurement.
var fixture struct {
	sync.Mutex
	name string
	v    any
}

func cached[T any](name string, build func() T) T {
	fixture.Lock()
	defer fixture.Unlock()
	if fixture.name == name {
		return fixture.v.(T)
	}
	fixture.name, fixture.v = "", nil
	runtime.GC()
	v := build()
	fixture.name, fixture.v = name, v
	runtime.GC()
	return v
}

// each runs op over n keys, serially or in parallel (each goroutine walks
// the keys from its own random offset), with allocations reported.
func each(b *testing.B, parallel bool, n int, op func(i int)) {
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		j := 0
		for range b.N {
			op(j)
			if j++; j == n {
				j = 0
			}
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		j := rand.IntN(n)
		for pb.Next() {
			op(j)
			if j++; j == n {
				j = 0
			}
		}
	})
}

// eachNew runs op on a never-seen key index per operation, shared by the
// goroutines through a counter handed out in blocks.
func eachNew(b *testing.B, parallel bool, op func(i int)) {
	b.ReportAllocs()
	if b.N > newKeyPool {
		b.Fatalf("b.N %d over the pool of %d new keys: lower -benchtime", b.N, newKeyPool)
	}
	b.ResetTimer()
	if !parallel {
		for i := range b.N {
			op(i)
		}
		return
	}
	var mu sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		i, end := 0, 0
		for pb.Next() {
			if i == end {
				mu.Lock()
				i, end = next, next+256
				next = end
				mu.Unlock()
			}
			op(i % newKeyPool)
			i++
		}
	})
}

var modes = []struct {
	name     string
	parallel bool
}{{"serial", false}, {"parallel", true}}

// engineConfig is the configuration of every benchmarked engine: the
// defaults (ip_address alone), a cool-off, and a logger that drops its
// lines (with the default logger every failure writes one to stderr).
func engineConfig(store core.Store, limit int) core.Config {
	cfg := core.DefaultConfig()
	cfg.Store = store
	cfg.FailureLimit = limit
	cfg.CoolOff = 15 * 60e9
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

func newEngine(tb testing.TB, store core.Store, limit int) *core.Engine {
	tb.Helper()
	e, err := core.New(engineConfig(store, limit))
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// loginRequest is one POST /login from addr, as adapters build it.
func loginRequest(addr string) core.Request {
	return core.Request{RemoteAddr: addr, Header: http.Header{}, Method: "POST", Path: "/login"}
}

// Our four paths on the engine, each one decision.
type path struct {
	name string
	op   func(ctx context.Context, e *core.Engine, r *core.Request) bool // false: wrong outcome
}

var (
	pathCheck = path{"check", func(ctx context.Context, e *core.Engine, r *core.Request) bool {
		return e.Status(ctx, r).Outcome == core.Allowed
	}}
	pathFail = path{"fail", func(ctx context.Context, e *core.Engine, r *core.Request) bool {
		a := e.Begin(ctx, r)
		defer a.Done(ctx) // as the adapters do when the request ends
		if a.Decision().Outcome != core.Allowed {
			return false
		}
		a.Fail(ctx)
		return true
	}}
	pathSuccess = path{"success", func(ctx context.Context, e *core.Engine, r *core.Request) bool {
		a := e.Begin(ctx, r)
		defer a.Done(ctx)
		if a.Decision().Outcome != core.Allowed {
			return false
		}
		a.Succeed(ctx)
		return true
	}}
	pathRefused = path{"refused", func(ctx context.Context, e *core.Engine, r *core.Request) bool {
		a := e.Begin(ctx, r)
		defer a.Done(ctx)
		return a.Decision().Outcome == core.Locked
	}}
)

// runPath runs p over addrs with one reusable Request per goroutine.
func runPath(b *testing.B, e *core.Engine, p path, addrs []string, parallel bool) {
	ctx := context.Background()
	var bad sync.Once
	check := func(ok bool) {
		if !ok {
			bad.Do(func() { b.Errorf("%s: unexpected outcome", p.name) })
		}
	}
	if !parallel {
		r := loginRequest("")
		each(b, false, len(addrs), func(i int) {
			r.RemoteAddr = addrs[i]
			check(p.op(ctx, e, &r))
		})
		return
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := loginRequest("")
		j := rand.IntN(len(addrs))
		for pb.Next() {
			r.RemoteAddr = addrs[j]
			check(p.op(ctx, e, &r))
			if j++; j == len(addrs) {
				j = 0
			}
		}
	})
}

// populate counts n failures for every address on e.
func populate(tb testing.TB, e *core.Engine, addrs []string, n int) {
	tb.Helper()
	ctx := context.Background()
	r := loginRequest("")
	for _, a := range addrs {
		r.RemoteAddr = a
		for range n {
			e.ReportFailure(ctx, &r)
		}
	}
}
