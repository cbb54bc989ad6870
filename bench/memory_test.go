package bench

import (
	"context"
	"sync"
	"testing"
	"time"

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

// BenchmarkCounter compares the counting primitive alone, as the peers are
// called: a key already built (our MemoryStore.Peek and Hit on one
// ip_address key; the peers' check and fail on the IP string), without the
// request's parsing, policy and decision that BenchmarkDecision includes.
func BenchmarkCounter(b *testing.B) {
	ctx := context.Background()
	policy := core.Policy{Limit: noLimit, CoolOff: peerWindow, ExtendDuringLockout: true}
	for _, w := range workloads {
		ips, _ := keySet(w.keys, false)
		b.Run(w.name, func(b *testing.B) {
			b.Run("axes-memory-store", func(b *testing.B) {
				type fixtureT struct {
					s    *core.MemoryStore
					keys [][]core.Key
				}
				f := cached("axes-counter/"+w.name, func() fixtureT {
					f := fixtureT{s: core.NewMemoryStore(core.MemoryOptions{MaxKeys: max(2*len(ips), 1_000)}), keys: make([][]core.Key, len(ips))}
					out := make([]core.Counter, 1)
					for i, ip := range ips {
						f.keys[i] = []core.Key{core.NewKey(core.ParamIPAddress, ip, "", "")}
						if _, err := f.s.Hit(ctx, f.keys[i], time.Now(), policy, out); err != nil {
							b.Fatal(err)
						}
					}
					return f
				})
				now := core.CoarseNow()
				for _, op := range []string{"check", "fail"} {
					b.Run(op, func(b *testing.B) {
						for _, m := range modes {
							b.Run(m.name, func(b *testing.B) {
								each(b, m.parallel, len(f.keys), func(i int) {
									var out [1]core.Counter
									if op == "check" {
										_ = f.s.Peek(ctx, f.keys[i], now, policy, out[:])
									} else {
										_, _ = f.s.Hit(ctx, f.keys[i], now, policy, out[:])
									}
								})
							})
						}
					})
				}
			})
		})
	}
}
