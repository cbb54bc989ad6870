package sqlitestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goaxes/axes/core"
)

// BenchmarkHit counts failures on a fresh key each time (never locked);
// BenchmarkPeek reads a counter. "parallel" runs b.RunParallel.
func BenchmarkHit(b *testing.B) {
	for _, nkeys := range []int{1, 2} {
		b.Run(fmt.Sprintf("keys=%d/serial", nkeys), func(b *testing.B) { benchHit(b, nkeys, false) })
		b.Run(fmt.Sprintf("keys=%d/parallel", nkeys), func(b *testing.B) { benchHit(b, nkeys, true) })
	}
}

func benchHit(b *testing.B, nkeys int, parallel bool) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	p := core.Policy{Limit: 1 << 30, CoolOff: time.Hour}
	var seq atomic.Int64
	one := func(out []core.Counter) {
		n := seq.Add(1)
		ip := fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
		keys := []core.Key{core.NewKey(core.ParamIPAddress, ip, "", "")}
		if nkeys == 2 {
			keys = append(keys, core.NewKey(core.ParamUsername, "", "alice", ""))
		}
		if _, err := s.Hit(context.Background(), keys, t0, p, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		out := make([]core.Counter, nkeys)
		for range b.N {
			one(out)
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		out := make([]core.Counter, nkeys)
		for pb.Next() {
			one(out)
		}
	})
}

func BenchmarkPeek(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	p := core.Policy{Limit: 5, CoolOff: time.Hour}
	keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
	out := make([]core.Counter, 1)
	if _, err := s.Hit(context.Background(), keys, t0, p, out); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := s.Peek(context.Background(), keys, t0, p, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			out := make([]core.Counter, 1)
			for pb.Next() {
				if err := s.Peek(context.Background(), keys, t0, p, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkHitLocked refuses a locked key again and again, counting each
// refusal (ResetCoolOffOnFailureDuringLockout, the default): an attacker
// hammering a locked client.
func BenchmarkHitLocked(b *testing.B) {
	for _, nkeys := range []int{1, 2} {
		b.Run(fmt.Sprintf("keys=%d/serial", nkeys), func(b *testing.B) { benchHitLocked(b, nkeys, false) })
		b.Run(fmt.Sprintf("keys=%d/parallel", nkeys), func(b *testing.B) { benchHitLocked(b, nkeys, true) })
	}
}

func benchHitLocked(b *testing.B, nkeys int, parallel bool) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	p := core.Policy{Limit: 3, CoolOff: time.Hour, ExtendDuringLockout: true}
	keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
	if nkeys == 2 {
		keys = append(keys, core.NewKey(core.ParamUsername, "", "alice", ""))
	}
	ctx := context.Background()
	for range 3 {
		if _, err := s.Hit(ctx, keys, t0, p, make([]core.Counter, nkeys)); err != nil {
			b.Fatal(err)
		}
	}
	one := func(out []core.Counter) {
		locked, err := s.Hit(ctx, keys, t0.Add(time.Second), p, out)
		if err != nil || !locked {
			b.Fatalf("Hit on a locked key: got locked=%v, err=%v; want locked", locked, err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		out := make([]core.Counter, nkeys)
		for range b.N {
			one(out)
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		out := make([]core.Counter, nkeys)
		for pb.Next() {
			one(out)
		}
	})
}
