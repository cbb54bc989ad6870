package redisstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/redisstore"
)

// benchKeys returns the keys of attempt i: its IP, its username and the
// pair, over 1000 clients so that the counters do not all sit on one key.
func benchKeys(i int) []core.Key {
	ip := "198.51.100." + strconv.Itoa(i%250) + "." + strconv.Itoa(i%4)
	user := "user" + strconv.Itoa(i%1000)
	return []core.Key{
		core.NewKey(core.ParamIPAddress, ip, "", ""),
		core.NewKey(core.ParamUsername, "", user, ""),
		core.NewKey(core.ParamIPAddress|core.ParamUsername, ip, user, ""),
	}
}

var benchPolicy = core.Policy{Limit: 0, CoolOff: time.Hour} // counts, never locks

func benchKeySet() [][]core.Key {
	ks := make([][]core.Key, 1000)
	for i := range ks {
		ks[i] = benchKeys(i)
	}
	return ks
}

// BenchmarkBaselinePing is one PING: the floor of any round trip to the
// server, against which Hit and Peek compare.
func BenchmarkBaselinePing(b *testing.B) {
	rdb := newClient(b)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := rdb.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := rdb.Ping(ctx).Err(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkHit(b *testing.B) {
	benchOp(b, func(s *redisstore.Store, keys []core.Key, out []core.Counter) error {
		_, err := s.Hit(context.Background(), keys, time.Now(), benchPolicy, out)
		return err
	})
}

func BenchmarkPeek(b *testing.B) {
	benchOp(b, func(s *redisstore.Store, keys []core.Key, out []core.Counter) error {
		return s.Peek(context.Background(), keys, time.Now(), benchPolicy, out)
	})
}

// BenchmarkRecordFailure is the record written after a failed login, with
// its failure log row.
func BenchmarkRecordFailure(b *testing.B) {
	benchOp(b, func(s *redisstore.Store, keys []core.Key, _ []core.Counter) error {
		rec := core.AttemptRecord{Username: keys[1].Username, IP: keys[0].IP, UserAgent: "bench/1", Path: "/login", PostData: "username=x\npassword=********", LastAttempt: time.Now()}
		return s.RecordFailure(context.Background(), rec, true, false, 100)
	})
}

func benchOp(b *testing.B, op func(*redisstore.Store, []core.Key, []core.Counter) error) {
	rdb := newClient(b)
	s := newStore(b, rdb, redisstore.Options{})
	keys := benchKeySet()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		out := make([]core.Counter, 3)
		i := 0
		for b.Loop() {
			if err := op(s, keys[i%len(keys)], out); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			out := make([]core.Counter, 3)
			i := int(n.Add(1)) * 7919
			for pb.Next() {
				if err := op(s, keys[i%len(keys)], out); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}
