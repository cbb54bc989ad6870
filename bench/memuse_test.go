package bench

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goaxes/axes/core"
)

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// memPolicy is the policy of the memory measurements: limit 5, 15 minutes.
var memPolicy = core.Policy{Limit: peerLimit, CoolOff: peerWindow, ExtendDuringLockout: true}

// ipKey builds the lockout key of ip as the engine does: a fresh copy of
// the address string (the engine formats it from the parsed address) and
// the encoded ID.
func ipKey(ip string) core.Key {
	return core.NewKey(core.ParamIPAddress, strings.Clone(ip), "", "")
}

// BenchmarkMemoryPerKey reports the heap retained per tracked key (B/key)
// after n distinct keys have one failure each, in our memory store (its cap
// raised to 2n so that nothing is evicted) and in each peer; key-B/key is
// the part of that which is the key's own strings (our ID and IP copy; the
// callers' key strings are not counted for anyone). Run with -benchtime=1x:
// the measurement is made once whatever b.N.
func BenchmarkMemoryPerKey(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{100_000, 1_000_000} {
		ips, _ := keySet(n, false)
		name := "keys=100k"
		if n == 1_000_000 {
			name = "keys=1M"
		}
		b.Run(name+"/axes-memory", func(b *testing.B) {
			fixture.Lock()
			fixture.name, fixture.v = "", nil
			fixture.Unlock()
			before := heapAlloc()
			s := core.NewMemoryStore(core.MemoryOptions{MaxKeys: 2 * n})
			now := time.Now()
			out := make([]core.Counter, 1)
			keyBytes := 0
			for _, ip := range ips {
				k := []core.Key{ipKey(ip)}
				keyBytes += len(k[0].ID) + len(k[0].IP)
				if _, err := s.Hit(ctx, k, now, memPolicy, out); err != nil {
					b.Fatal(err)
				}
			}
			after := heapAlloc()
			if s.Len() != n {
				b.Fatalf("store holds %d keys, want %d", s.Len(), n)
			}
			b.ReportMetric(float64(after-before)/float64(n), "B/key")
			b.ReportMetric(float64(keyBytes)/float64(n), "key-B/key")
			runtime.KeepAlive(s)
		})
		for _, pe := range peers {
			b.Run(name+"/"+pe.name, func(b *testing.B) {
				before := heapAlloc()
				p := pe.new(b)
				for _, ip := range ips {
					p.fail(ctx, ip)
				}
				after := heapAlloc()
				b.ReportMetric(float64(after-before)/float64(n), "B/key")
				runtime.KeepAlive(p)
			})
		}
	}
}

// spray locks lockedN keys, then counts one failure on each of sprayN
// never-seen keys in a store capped at maxKeys; it returns the keys held,
// how many locked keys are still locked, and the heap after.
func spray(tb testing.TB, maxKeys, lockedN, sprayN int) (held, stillLocked int, heap uint64) {
	tb.Helper()
	ctx := context.Background()
	s := core.NewMemoryStore(core.MemoryOptions{MaxKeys: maxKeys})
	now := time.Now()
	out := make([]core.Counter, 1)
	locked := make([]core.Key, lockedN)
	for i := range locked {
		locked[i] = ipKey(ip(i))
		for range peerLimit {
			if _, err := s.Hit(ctx, locked[i:i+1], now, memPolicy, out); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for i := range sprayN {
		k := []core.Key{ipKey(newIP(i))}
		if _, err := s.Hit(ctx, k, now, memPolicy, out); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range locked {
		if err := s.Peek(ctx, locked[i:i+1], now, memPolicy, out); err != nil {
			tb.Fatal(err)
		}
		if memPolicy.Locked(out[0], now) {
			stillLocked++
		}
	}
	held = s.Len()
	heap = heapAlloc()
	runtime.KeepAlive(s)
	return held, stillLocked, heap
}

// BenchmarkSpray sprays 5,000,000 never-seen keys into a memory store with
// its default cap (1,000,000) after locking 1,000 clients, and reports the
// keys held, the locked clients still locked and the heap (MB) at the end.
// Run with -benchtime=1x.
func BenchmarkSpray(b *testing.B) {
	fixture.Lock()
	fixture.name, fixture.v = "", nil
	fixture.Unlock()
	base := heapAlloc()
	start := time.Now()
	held, locked, heap := spray(b, core.DefaultMemoryMaxKeys, 1_000, 5_000_000)
	b.ReportMetric(float64(held), "keys-held")
	b.ReportMetric(float64(locked), "locked-kept/1000")
	b.ReportMetric(float64(heap-min(heap, base))/(1<<20), "heap-MB")
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/5_001_000, "ns/key")
	if held > core.DefaultMemoryMaxKeys || locked != 1_000 {
		b.Errorf("cap broken: %d keys held (cap %d), %d of 1000 locked clients still locked", held, core.DefaultMemoryMaxKeys, locked)
	}
}

// TestSprayCap is BenchmarkSpray in small: the cap holds and no locked key
// is evicted.
func TestSprayCap(t *testing.T) {
	held, locked, _ := spray(t, 10_000, 500, 100_000)
	if held > 10_000 {
		t.Errorf("store holds %d keys, want at most 10000", held)
	}
	if locked != 500 {
		t.Errorf("%d of 500 locked keys still locked, want 500", locked)
	}
}
