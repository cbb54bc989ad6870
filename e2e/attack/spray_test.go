package attack_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

const (
	sprayKeys    = 2_000_000
	sprayMaxKeys = core.DefaultMemoryMaxKeys // the default cap: 1,000,000
	// sprayHeapBound is the bound stated in docs/security.md for the heap
	// live after GC, above the baseline, of a memory store at its default
	// caps (1,000,000 counters, 100,000 attempt records) full of sprayed
	// usernames.
	sprayHeapBound = 400 << 20
	// sprayHTTP is how many distinct usernames the HTTP spray sends, and
	// sprayRSSBound the bound on the app's resident set after it.
	sprayHTTP     = 100_000
	sprayRSSBound = 256 << 10 // KiB
)

// TestSprayG4InProcess sprays 2,000,000 distinct usernames through an
// engine on the memory store at its default caps: the counters stay at
// their cap, the heap under sprayHeapBound, and a client locked before the
// spray is still locked after it (docs/design.md G4). Not parallel: it measures
// the heap of the whole test process, so it runs alone.
func TestSprayG4InProcess(t *testing.T) {
	ctx := context.Background()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseline := ms.HeapAlloc

	store := core.NewMemoryStore(core.MemoryOptions{MaxKeys: sprayMaxKeys})
	cfg := core.DefaultConfig()
	cfg.Store = store
	cfg.LockoutParameters = []core.Combination{core.ParamUsername}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := core.New(cfg)
	require.NoError(t, err)
	req := func(user string) *core.Request {
		return &core.Request{RemoteAddr: "203.0.113.9:4711", Method: "POST", Path: "/login", Username: user,
			Form: map[string][]string{"username": {user}, "password": {"hunter2"}}}
	}
	for range 3 {
		a := e.Begin(ctx, req("alice"))
		require.Equal(t, core.Allowed, a.Decision().Outcome)
		a.Fail(ctx)
	}
	require.Equal(t, core.Locked, e.Status(ctx, req("alice")).Outcome, "alice is locked before the spray")

	const workers = 2
	var next atomic.Int64
	var maxLen, maxHeap atomic.Int64
	checkpoint := func() {
		n := store.Len()
		if int64(n) > maxLen.Load() {
			maxLen.Store(int64(n))
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if h := int64(ms.HeapAlloc) - int64(baseline); h > maxHeap.Load() {
			maxHeap.Store(h)
		}
	}
	began := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex // one checkpoint at a time
	deadline := began.Add(3 * time.Minute)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > sprayKeys || time.Now().After(deadline) {
					return
				}
				a := e.Begin(ctx, req("spray"+strconv.FormatInt(i, 36)))
				if i%8 == 0 {
					a.Fail(ctx) // and an attempt record for every 8th
				}
				if i%250_000 == 0 {
					mu.Lock()
					checkpoint()
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	require.Greater(t, next.Load(), int64(sprayKeys), "the spray did not finish within its 3 minutes")
	checkpoint()
	t.Logf("FIGURE spray in-process: %d usernames in %s; counters at most %d (cap %d), now %d; heap above baseline at most %d MiB (bound %d MiB)",
		sprayKeys, took.Round(time.Millisecond), maxLen.Load(), sprayMaxKeys, store.Len(), maxHeap.Load()>>20, sprayHeapBound>>20)
	assert.LessOrEqual(t, maxLen.Load(), int64(sprayMaxKeys), "the counters never pass the cap")
	assert.GreaterOrEqual(t, store.Len(), sprayMaxKeys*9/10, "the store is (nearly) full: the spray really filled it")
	assert.Less(t, maxHeap.Load(), int64(sprayHeapBound), "heap above baseline")
	d := e.Status(ctx, req("alice"))
	assert.Equal(t, core.Locked, d.Outcome, "alice is still locked after the spray")
	a := e.Begin(ctx, req("ALICE"))
	assert.Equal(t, core.Locked, a.Decision().Outcome, "alice's next attempt is refused")
	runtime.KeepAlive(store)
}

// TestSprayG4HTTP sprays distinct usernames over HTTP against an example
// on the memory store (keep-alive, 4 connections): a client locked before
// is still locked after, and the app's resident set stays bounded. The
// spray uses the JSON login with no password, which the demo reports as a
// failure without a bcrypt check, so that 100,000 failures take seconds.
func TestSprayG4HTTP(t *testing.T) {
	t.Parallel()
	a := startApp(t, "nethttp", "AXES_LOCKOUT_PARAMETERS=username")
	victim := client(t, nextIP(), 1)
	for i, want := range []int{401, 401, 429} {
		r := mustPost(t, victim, a.base+"/login", "form", formBody("username", "bob", "password", "x"))
		require.Equal(t, want, r.status, "bob's attempt %d", i+1)
	}
	rssBefore := a.rssKB(t)
	const conns = 4
	var next, refused atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	deadline := began.Add(2 * time.Minute)
	other := map[int]int{}
	var mu sync.Mutex
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(t, nextIP(), 1)
			for {
				i := next.Add(1)
				if i > sprayHTTP || time.Now().After(deadline) {
					return
				}
				r := post(c, a.base+"/api/login", "json", fmt.Sprintf(`{"username":"spray%d"}`, i))
				if r.err != nil {
					t.Errorf("spray %d: %v", i, r.err)
					return
				}
				if r.status != http.StatusBadRequest {
					refused.Add(1)
					mu.Lock()
					other[r.status]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	require.Greater(t, next.Load(), int64(sprayHTTP), "the HTTP spray did not finish within 2 minutes")
	rss := a.rssKB(t)
	p := a.probe(t)
	t.Logf("FIGURE spray HTTP: %d usernames in %s (%.0f/s); other statuses %v; RSS %d MiB before, %d MiB after (bound %d MiB); heap in use %d MiB",
		sprayHTTP, took.Round(time.Millisecond), float64(sprayHTTP)/took.Seconds(), other, rssBefore>>10, rss>>10, sprayRSSBound>>10, p.HeapInuse>>20)
	assert.Zero(t, refused.Load(), "every sprayed attempt is a counted 400, none refused: %v", other)
	assert.Less(t, rss, sprayRSSBound, "resident set after the spray (KiB)")
	r := mustPost(t, client(t, nextIP(), 1), a.base+"/login", "form", formBody("username", "bob", "password", "builder"))
	assert.Equal(t, 429, r.status, "the username bob, locked before the spray, is still locked")
}
