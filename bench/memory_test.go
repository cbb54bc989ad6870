package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/goaxes/axes/core"
)

// noLimit keeps every key unlocked however many failures the benchmark
// counts, so that "fail" stays a recorded failure of an unlocked key.
const noLimit = 1 << 30

// memoryEngine returns an engine on a fresh memory store large enough for
// n keys (so that no eviction runs), each key already tracked with failures
// failures under limit.
func memoryEngine(tb testing.TB, addrs []string, limit, failures int) *core.Engine {
	tb.Helper()
	store := core.NewMemoryStore(core.MemoryOptions{MaxKeys: max(2*len(addrs), 1_000)})
	e := newEngine(tb, store, limit)
	populate(tb, e, addrs, failures)
	return e
}

// BenchmarkDecision measures one decision for a tracked, unlocked key: our
// engine's paths on the memory store (check: Status; fail: Begin+Fail;
// success: Begin+Succeed) and each peer's equivalent (check: its read;
// fail: one counted failure and its decision), on the same keys.
func BenchmarkDecision(b *testing.B) {
	for _, w := range workloads {
		ips, addrs := keySet(w.keys, false)
		b.Run(w.name, func(b *testing.B) {
			b.Run("axes-memory", func(b *testing.B) {
				e := cached("axes-memory/"+w.name, func() *core.Engine { return memoryEngine(b, addrs, noLimit, 1) })
				for _, p := range []path{pathCheck, pathFail, pathSuccess} {
					b.Run(p.name, func(b *testing.B) {
						for _, m := range modes {
							b.Run(m.name, func(b *testing.B) { runPath(b, e, p, addrs, m.parallel) })
						}
					})
				}
			})
			for _, pe := range peers {
				b.Run(pe.name, func(b *testing.B) {
					// The peers' keys get one failure first, as ours do; the
					// check runs first so that the fail runs that follow
					// (which may push keys over the limit) do not change it.
					p := cached(pe.name+"/"+w.name, func() peer {
						p := pe.new(b)
						for _, k := range ips {
							p.fail(context.Background(), k)
						}
						return p
					})
					for _, op := range []string{"check", "fail"} {
						b.Run(op, func(b *testing.B) {
							for _, m := range modes {
								b.Run(m.name, func(b *testing.B) { runPeer(b, p, op, ips, m.parallel) })
							}
						})
					}
				})
			}
		})
	}
}

// BenchmarkRefused measures the refusal of a locked key: our Begin answered
// Locked (the refusal counted, extending the cool-off, as by default), and
// each peer's counted decision on a key over its limit.
func BenchmarkRefused(b *testing.B) {
	for _, w := range []workload{hot, keys1M} {
		ips, addrs := keySet(w.keys, false)
		b.Run(w.name, func(b *testing.B) {
			b.Run("axes-memory", func(b *testing.B) {
				e := cached("axes-memory-locked/"+w.name, func() *core.Engine { return memoryEngine(b, addrs, peerLimit, peerLimit) })
				for _, m := range modes {
					b.Run(m.name, func(b *testing.B) { runPath(b, e, pathRefused, addrs, m.parallel) })
				}
			})
			for _, pe := range peers {
				b.Run(pe.name, func(b *testing.B) {
					p := cached(pe.name+"-locked/"+w.name, func() peer {
						p := pe.new(b)
						for _, k := range ips {
							for range peerLimit + 1 {
								p.fail(context.Background(), k)
							}
						}
						return p
					})
					for _, m := range modes {
						b.Run(m.name, func(b *testing.B) { runPeer(b, p, "fail", ips, m.parallel) })
					}
				})
			}
		})
	}
}

// BenchmarkNewKey measures a failure of a never-seen key per operation (an
// attacker rotating IPv6 /64s): on a fresh memory store with its default
// cap, and on a fresh peer. Run it with -benchtime of at most newKeyPool
// iterations (e.g. 1000000x).
func BenchmarkNewKey(b *testing.B) {
	ips, addrs := newKeySet()
	ctx := context.Background()
	for _, m := range modes {
		b.Run("axes-memory/fail/"+m.name, func(b *testing.B) {
			e := newEngine(b, core.NewMemoryStore(core.MemoryOptions{}), peerLimit)
			// One reusable Request per goroutine, as runPath: an adapter's
			// request is the framework's, not part of the decision.
			reqs := sync.Pool{New: func() any { r := loginRequest(""); return &r }}
			eachNew(b, m.parallel, func(i int) {
				r := reqs.Get().(*core.Request)
				r.RemoteAddr = addrs[i]
				pathFail.op(ctx, e, r)
				reqs.Put(r)
			})
		})
		for _, pe := range peers {
			b.Run(pe.name+"/fail/"+m.name, func(b *testing.B) {
				p := pe.new(b)
				eachNew(b, m.parallel, func(i int) { p.fail(ctx, ips[i]) })
			})
		}
	}
}
