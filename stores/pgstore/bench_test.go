package pgstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goaxes/axes/core"
)

// BenchmarkHit counts failures on a fresh IP each time (never locked), with
// the IP alone (one statement) or with a username too (the function);
// BenchmarkPeek reads a counter. "parallel" runs b.RunParallel.
func BenchmarkHit(b *testing.B) {
	for _, nkeys := range []int{1, 2} {
		b.Run(fmt.Sprintf("keys=%d/serial", nkeys), func(b *testing.B) { benchHit(b, nkeys, false) })
		b.Run(fmt.Sprintf("keys=%d/parallel", nkeys), func(b *testing.B) { benchHit(b, nkeys, true) })
	}
}

func benchHit(b *testing.B, nkeys int, parallel bool) {
	s := newStore(b, newPool(b))
	p := core.Policy{Limit: 1 << 30, CoolOff: time.Hour}
	var seq atomic.Int64
	one := func(out []core.Counter) {
		n := seq.Add(1)
		ip := fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
		keys := []core.Key{core.NewKey(core.ParamIPAddress, ip, "", "")}
		if nkeys == 2 {
			keys = append(keys, core.NewKey(core.ParamUsername, "", fmt.Sprintf("user%d", n%64), ""))
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
	s := newStore(b, newPool(b))
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

// BenchmarkSucceed is the store's part of a successful login on one of
// 1,000 keys that each hold a failure: the Hit, then the release and the
// access log, in one statement (LoginStore) or as Release and RecordLogin.
func BenchmarkSucceed(b *testing.B) {
	s := newStore(b, newPool(b))
	p := core.Policy{Limit: 1 << 30, CoolOff: time.Hour}
	keys := make([][]core.Key, 1000)
	for i := range keys {
		keys[i] = []core.Key{core.NewKey(core.ParamIPAddress, fmt.Sprintf("10.0.%d.%d", i>>8, i&255), "", "")}
		if _, err := s.Hit(context.Background(), keys[i], t0, p, make([]core.Counter, 1)); err != nil {
			b.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		end  func(ctx context.Context, k []core.Key, log core.AccessLog) error
	}{
		{"one-statement", func(ctx context.Context, k []core.Key, log core.AccessLog) error {
			return s.ReleaseAndRecordLogin(ctx, k, t0, p, log)
		}},
		{"release+login", func(ctx context.Context, k []core.Key, log core.AccessLog) error {
			if err := s.Release(ctx, k, t0, p); err != nil {
				return err
			}
			return s.RecordLogin(ctx, log)
		}},
	} {
		for _, parallel := range []bool{false, true} {
			mode := "serial"
			if parallel {
				mode = "parallel"
			}
			b.Run(tt.name+"/"+mode, func(b *testing.B) {
				var seq atomic.Int64
				one := func(out []core.Counter) {
					ctx := context.Background()
					k := keys[seq.Add(1)%int64(len(keys))]
					if _, err := s.Hit(ctx, k, t0, p, out); err != nil {
						b.Fatal(err)
					}
					if err := tt.end(ctx, k, core.AccessLog{Username: "alice", IP: k[0].IP, Path: "/login", LoginTime: t0}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				if !parallel {
					out := make([]core.Counter, 1)
					for b.Loop() {
						one(out)
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					out := make([]core.Counter, 1)
					for pb.Next() {
						one(out)
					}
				})
			})
		}
	}
}
