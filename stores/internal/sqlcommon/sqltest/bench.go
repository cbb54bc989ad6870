package sqltest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goaxes/axes/core"
)

// Store is what the benchmarks run on.
type Store interface {
	core.Store
	core.RecordStore
	core.LoginStore
}

// modes runs bench as the sub-benchmarks name/serial and name/parallel.
func modes(b *testing.B, name string, bench func(b *testing.B, parallel bool)) {
	b.Run(name+"serial", func(b *testing.B) { bench(b, false) })
	b.Run(name+"parallel", func(b *testing.B) { bench(b, true) })
}

// loop runs one b.N times, in b.RunParallel when parallel, each goroutine
// with its own out of n counters.
func loop(b *testing.B, parallel bool, n int, one func(out []core.Counter)) {
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		out := make([]core.Counter, n)
		for range b.N {
			one(out)
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		out := make([]core.Counter, n)
		for pb.Next() {
			one(out)
		}
	})
}

// BenchHit counts failures on a fresh IP each time (never locked), with the
// IP alone (keys=1) or with one of users usernames too (keys=2), on a new
// store for each sub-benchmark.
func BenchHit(b *testing.B, newStore func(b *testing.B) Store, users int) {
	for _, nkeys := range []int{1, 2} {
		modes(b, fmt.Sprintf("keys=%d/", nkeys), func(b *testing.B, parallel bool) {
			s := newStore(b)
			p := core.Policy{Limit: 1 << 30, CoolOff: time.Hour}
			var seq atomic.Int64
			loop(b, parallel, nkeys, func(out []core.Counter) {
				n := seq.Add(1)
				keys := []core.Key{core.NewKey(core.ParamIPAddress, fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255), "", "")}
				if nkeys == 2 {
					keys = append(keys, core.NewKey(core.ParamUsername, "", fmt.Sprintf("user%d", n%int64(users)), ""))
				}
				if _, err := s.Hit(context.Background(), keys, T0, p, out); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchPeek reads one counter.
func BenchPeek(b *testing.B, s Store) {
	p := core.Policy{Limit: 5, CoolOff: time.Hour}
	keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
	if _, err := s.Hit(context.Background(), keys, T0, p, make([]core.Counter, 1)); err != nil {
		b.Fatal(err)
	}
	modes(b, "", func(b *testing.B, parallel bool) {
		loop(b, parallel, 1, func(out []core.Counter) {
			if err := s.Peek(context.Background(), keys, T0, p, out); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchHitLocked refuses a locked client again and again, counting each
// refusal (ResetCoolOffOnFailureDuringLockout, the default): an attacker
// hammering a locked client, on its IP alone (keys=1) or with a username
// (keys=2), on a new store for each sub-benchmark.
func BenchHitLocked(b *testing.B, newStore func(b *testing.B) Store) {
	for _, nkeys := range []int{1, 2} {
		modes(b, fmt.Sprintf("keys=%d/", nkeys), func(b *testing.B, parallel bool) {
			s := newStore(b)
			p := core.Policy{Limit: 3, CoolOff: time.Hour, ExtendDuringLockout: true}
			keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
			if nkeys == 2 {
				keys = append(keys, core.NewKey(core.ParamUsername, "", "alice", ""))
			}
			ctx := context.Background()
			for range 3 {
				if _, err := s.Hit(ctx, keys, T0, p, make([]core.Counter, nkeys)); err != nil {
					b.Fatal(err)
				}
			}
			loop(b, parallel, nkeys, func(out []core.Counter) {
				locked, err := s.Hit(ctx, keys, T0.Add(time.Second), p, out)
				if err != nil || !locked {
					b.Fatalf("Hit on a locked key: got locked=%v, err=%v; want locked", locked, err)
				}
			})
		})
	}
}

// BenchSucceed is the store's part of a successful login on one of 1,000
// keys that each hold a failure: the Hit, then the release and the access
// log, in one step (core.LoginStore) or as Release and RecordLogin.
func BenchSucceed(b *testing.B, s Store) {
	p := core.Policy{Limit: 1 << 30, CoolOff: time.Hour}
	keys := make([][]core.Key, 1000)
	for i := range keys {
		keys[i] = []core.Key{core.NewKey(core.ParamIPAddress, fmt.Sprintf("10.0.%d.%d", i>>8, i&255), "", "")}
		if _, err := s.Hit(context.Background(), keys[i], T0, p, make([]core.Counter, 1)); err != nil {
			b.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		end  func(ctx context.Context, k []core.Key, log core.AccessLog) error
	}{
		{"one-step", func(ctx context.Context, k []core.Key, log core.AccessLog) error {
			return s.ReleaseAndRecordLogin(ctx, k, T0, p, log)
		}},
		{"release+login", func(ctx context.Context, k []core.Key, log core.AccessLog) error {
			if err := s.Release(ctx, k, T0, p); err != nil {
				return err
			}
			return s.RecordLogin(ctx, log)
		}},
	} {
		modes(b, tt.name+"/", func(b *testing.B, parallel bool) {
			var seq atomic.Int64
			loop(b, parallel, 1, func(out []core.Counter) {
				ctx := context.Background()
				k := keys[seq.Add(1)%int64(len(keys))]
				if _, err := s.Hit(ctx, k, T0, p, out); err != nil {
					b.Fatal(err)
				}
				if err := tt.end(ctx, k, core.AccessLog{Username: "alice", IP: k[0].IP, Path: "/login", LoginTime: T0}); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
