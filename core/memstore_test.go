package core_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/core/storetest"
)

var memT0 = time.Unix(1_700_000_000, 0).UTC()

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store {
		s := core.NewMemoryStore(core.MemoryOptions{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// The suite steps by microseconds; memory tells nanoseconds apart.
func TestMemoryStoreExpiresOneNanosecondAfterCoolOff(t *testing.T) {
	s := core.NewMemoryStore(core.MemoryOptions{})
	ctx := context.Background()
	k := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
	p := core.Policy{Limit: 1, CoolOff: 10 * time.Second}
	out := make([]core.Counter, 1)
	_, err := s.Hit(ctx, k, memT0, p, out)
	require.NoError(t, err)
	require.NoError(t, s.Peek(ctx, k, memT0.Add(10*time.Second), p, out))
	assert.Equal(t, 1, out[0].Failures, "at last+cool-off: got %d, want 1", out[0].Failures)
	require.NoError(t, s.Peek(ctx, k, memT0.Add(10*time.Second+time.Nanosecond), p, out))
	assert.Equal(t, 0, out[0].Failures, "at last+cool-off+1ns: got %d, want 0", out[0].Failures)
}

func TestMemoryStoreDefaults(t *testing.T) {
	s := core.NewMemoryStore(core.MemoryOptions{})
	assert.Equal(t, 0, s.Len(), "Len of a new store: got %d, want 0", s.Len())
	assert.NoError(t, s.Close(), "Close")
}

func TestMemoryStoreCapHolds(t *testing.T) {
	const maxKeys, spray = 1000, 100_000
	s := core.NewMemoryStore(core.MemoryOptions{MaxKeys: maxKeys})
	ctx := context.Background()
	p := core.Policy{Limit: 3, CoolOff: time.Hour}
	out := make([]core.Counter, 1)
	for i := range spray {
		k := []core.Key{core.NewKey(core.ParamUsername, "", "user"+strconv.Itoa(i), "")}
		locked, err := s.Hit(ctx, k, memT0.Add(time.Duration(i)*time.Millisecond), p, out)
		require.NoError(t, err)
		require.False(t, locked, "new key %d: got locked, want not locked", i)
		require.Equal(t, 1, out[0].Failures, "new key %d: got count %d, want 1", i, out[0].Failures)
	}
	assert.LessOrEqual(t, s.Len(), maxKeys, "Len after %d distinct keys: got %d, want <= %d", spray, s.Len(), maxKeys)
	assert.Greater(t, s.Len(), maxKeys/2, "Len after %d distinct keys: got %d, want the cap mostly used", spray, s.Len())
}

func TestMemoryStoreLockSurvivesSpray(t *testing.T) {
	const maxKeys, spray = 1000, 100_000
	for _, coolOff := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprintf("cool-off %v", coolOff), func(t *testing.T) {
			s := core.NewMemoryStore(core.MemoryOptions{MaxKeys: maxKeys})
			ctx := context.Background()
			p := core.Policy{Limit: 3, CoolOff: coolOff}
			out := make([]core.Counter, 1)
			victim := []core.Key{core.NewKey(core.ParamUsername, "", "alice", "")}
			for range 3 {
				_, err := s.Hit(ctx, victim, memT0, p, out)
				require.NoError(t, err)
			}
			for i := range spray {
				k := []core.Key{core.NewKey(core.ParamUsername, "", "spray"+strconv.Itoa(i), "")}
				_, err := s.Hit(ctx, k, memT0.Add(time.Duration(i)*time.Millisecond), p, out)
				require.NoError(t, err)
			}
			now := memT0.Add(spray * time.Millisecond)
			require.NoError(t, s.Peek(ctx, victim, now, p, out))
			assert.Equal(t, 3, out[0].Failures, "alice after a spray of %d keys: got %d failures, want 3", spray, out[0].Failures)
			locked, err := s.Hit(ctx, victim, now, p, out)
			require.NoError(t, err)
			assert.True(t, locked, "alice after a spray of %d keys: got not locked, want locked", spray)
			assert.LessOrEqual(t, s.Len(), maxKeys, "Len: got %d, want <= %d", s.Len(), maxKeys)
		})
	}
}

// When every counter is locked, a new key is not stored: it reads one
// failure and not locked, and locked keys stay.
func TestMemoryStoreFullOfLocks(t *testing.T) {
	const maxKeys = 64
	s := core.NewMemoryStore(core.MemoryOptions{MaxKeys: maxKeys})
	ctx := context.Background()
	p := core.Policy{Limit: 1, CoolOff: time.Minute}
	out := make([]core.Counter, 1)
	var keys [][]core.Key
	for i := 0; s.Len() < maxKeys && i < 100_000; i++ {
		k := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0."+strconv.Itoa(i), "", "")}
		_, err := s.Hit(ctx, k, memT0, p, out)
		require.NoError(t, err)
		keys = append(keys, k)
	}
	n := s.Len()
	require.Equal(t, maxKeys, n, "filled store: got Len %d, want %d", n, maxKeys)
	newKey := []core.Key{core.NewKey(core.ParamUsername, "", "newcomer", "")}
	for range 3 {
		locked, err := s.Hit(ctx, newKey, memT0, p, out)
		require.NoError(t, err)
		if !locked {
			assert.Equal(t, 1, out[0].Failures, "a new key in a store full of locks: got %d, want 1", out[0].Failures)
		}
	}
	assert.LessOrEqual(t, s.Len(), maxKeys, "Len: got %d, want <= %d", s.Len(), maxKeys)
	locks := 0
	for _, k := range keys {
		require.NoError(t, s.Peek(ctx, k, memT0, p, out))
		if out[0].Failures == 1 {
			locks++
		}
	}
	assert.Equal(t, n, locks, "locked keys after new keys arrived: got %d, want %d (none evicted)", locks, n)

	// Once the locks expire, new keys are stored again.
	later := memT0.Add(time.Minute + time.Nanosecond)
	_, err := s.Hit(ctx, newKey, later, p, out)
	require.NoError(t, err)
	require.NoError(t, s.Peek(ctx, newKey, later, p, out))
	assert.Equal(t, 1, out[0].Failures, "a new key once the locks expired: got %d, want 1 (stored)", out[0].Failures)
}

func TestMemoryStoreRecordCaps(t *testing.T) {
	s := core.NewMemoryStore(core.MemoryOptions{MaxRecords: 10, MaxLogs: 20})
	ctx := context.Background()
	for i := range 1000 {
		rec := core.AttemptRecord{Username: "u" + strconv.Itoa(i%50), IP: "10.0.0.1", LastAttempt: memT0.Add(time.Duration(i) * time.Second)}
		require.NoError(t, s.RecordFailure(ctx, rec, true, false, 3))
		require.NoError(t, s.RecordLogin(ctx, core.AccessLog{Username: rec.Username, LoginTime: rec.LastAttempt}))
	}
	as, total, err := s.Attempts(ctx, core.ListQuery{Sort: "last_attempt"})
	require.NoError(t, err)
	assert.Equal(t, 10, total, "attempt records: got %d, want the cap 10", total)
	if assert.NotEmpty(t, as) {
		assert.Equal(t, "u49", as[0].Username, "newest record kept: got %s, want u49", as[0].Username)
		assert.Equal(t, "u40", as[len(as)-1].Username, "oldest record kept: got %s, want u40", as[len(as)-1].Username)
	}
	_, total, err = s.AccessLogs(ctx, core.ListQuery{})
	require.NoError(t, err)
	assert.Equal(t, 20, total, "access logs: got %d, want the cap 20", total)
	fs, total, err := s.FailureLogs(ctx, core.ListQuery{})
	require.NoError(t, err)
	assert.Equal(t, 20, total, "failure logs: got %d, want the cap 20", total)
	if assert.NotEmpty(t, fs) {
		assert.Equal(t, "u49", fs[0].Username, "newest failure log: got %s, want u49", fs[0].Username)
	}
}

func TestMemoryStoreResetCountsCountersWithoutRecords(t *testing.T) {
	s := core.NewMemoryStore(core.MemoryOptions{})
	ctx := context.Background()
	p := core.Policy{Limit: 3}
	out := make([]core.Counter, 2)
	keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", ""), core.NewKey(core.ParamUsername, "", "alice", "")}
	_, err := s.Hit(ctx, keys, memT0, p, out)
	require.NoError(t, err)
	n, err := s.Reset(ctx, core.Filter{})
	require.NoError(t, err)
	assert.Equal(t, 2, n, "Reset of a store that never kept records: got %d, want 2 counters", n)
}

func TestMemoryStoreDuplicateKeysCountOnce(t *testing.T) {
	s := core.NewMemoryStore(core.MemoryOptions{})
	ctx := context.Background()
	k := core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
	out := make([]core.Counter, 2)
	_, err := s.Hit(ctx, []core.Key{k, k}, memT0, core.Policy{Limit: 3}, out)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1}, []int{out[0].Failures, out[1].Failures}, "one key named twice: got the left, want the right")
}

func TestMemoryStoreShortOut(t *testing.T) {
	s := core.NewMemoryStore(core.MemoryOptions{})
	k := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
	_, err := s.Hit(context.Background(), k, memT0, core.Policy{}, nil)
	assert.Error(t, err, "Hit with a short out: got no error, want one")
	assert.Error(t, s.Peek(context.Background(), k, memT0, core.Policy{}, nil), "Peek with a short out")
}

func TestMemoryStorePeekDoesNotAllocate(t *testing.T) {
	s := core.NewMemoryStore(core.MemoryOptions{})
	ctx := context.Background()
	k := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
	p := core.Policy{Limit: 5, CoolOff: time.Minute}
	out := make([]core.Counter, 1)
	_, err := s.Hit(ctx, k, memT0, p, out)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() { _ = s.Peek(ctx, k, memT0, p, out) })
	assert.Zero(t, allocs, "Peek: got %v allocations, want 0", allocs)
	allocs = testing.AllocsPerRun(1000, func() { _, _ = s.Hit(ctx, k, memT0, p, out) })
	assert.Zero(t, allocs, "Hit of an existing key: got %v allocations, want 0", allocs)
}

func BenchmarkMemoryPeekUnlocked(b *testing.B) {
	s := core.NewMemoryStore(core.MemoryOptions{})
	ctx := context.Background()
	k := []core.Key{core.NewKey(core.ParamIPAddress, "203.0.113.7", "", "")}
	p := core.Policy{Limit: 5, CoolOff: 30 * time.Minute}
	out := make([]core.Counter, 1)
	if _, err := s.Hit(ctx, k, memT0, p, out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Peek(ctx, k, memT0, p, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryHit(b *testing.B) {
	p := core.Policy{Limit: 5, CoolOff: 30 * time.Minute, ExtendDuringLockout: true}
	b.Run("serial", func(b *testing.B) {
		s := core.NewMemoryStore(core.MemoryOptions{})
		ctx := context.Background()
		k := []core.Key{core.NewKey(core.ParamIPAddress, "203.0.113.7", "", "")}
		out := make([]core.Counter, 1)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Hit(ctx, k, memT0, p, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("serial/3keys", func(b *testing.B) {
		s := core.NewMemoryStore(core.MemoryOptions{})
		ctx := context.Background()
		k := []core.Key{
			core.NewKey(core.ParamIPAddress, "203.0.113.7", "", ""),
			core.NewKey(core.ParamUsername, "", "alice", ""),
			core.NewKey(core.ParamIPAddress|core.ParamUserAgent, "203.0.113.7", "", "Mozilla/5.0"),
		}
		out := make([]core.Counter, 3)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Hit(ctx, k, memT0, p, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel/distinct keys", func(b *testing.B) {
		s := core.NewMemoryStore(core.MemoryOptions{})
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			k := []core.Key{core.NewKey(core.ParamIPAddress, "203.0.113."+strconv.FormatInt(next.Add(1), 10), "", "")}
			out := make([]core.Counter, 1)
			for pb.Next() {
				if _, err := s.Hit(ctx, k, memT0, p, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("parallel/one key", func(b *testing.B) {
		s := core.NewMemoryStore(core.MemoryOptions{})
		k := []core.Key{core.NewKey(core.ParamIPAddress, "203.0.113.7", "", "")}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			out := make([]core.Counter, 1)
			for pb.Next() {
				if _, err := s.Hit(ctx, k, memT0, p, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkMemoryHitNewKey counts a key never seen before on each op, keys
// built beforehand; past MaxKeys every op evicts.
func BenchmarkMemoryHitNewKey(b *testing.B) {
	const n = 1 << 20
	keys := make([][]core.Key, n)
	for i := range keys {
		keys[i] = []core.Key{core.NewKey(core.ParamUsername, "", "user"+strconv.Itoa(i), "")}
	}
	p := core.Policy{Limit: 5, CoolOff: 30 * time.Minute}
	for _, maxKeys := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("MaxKeys=%d", maxKeys), func(b *testing.B) {
			s := core.NewMemoryStore(core.MemoryOptions{MaxKeys: maxKeys})
			ctx := context.Background()
			out := make([]core.Counter, 1)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Hit(ctx, keys[i%n], memT0.Add(time.Duration(i)), p, out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// countersOnly hides the RecordStore methods, to run the suite as on a
// store that keeps no records.
type countersOnly struct{ core.Store }

func TestMemoryStoreCountersOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store {
		return countersOnly{core.NewMemoryStore(core.MemoryOptions{})}
	})
}

// The failure logs' caps and deletions agree with a plain model over random
// operations.
func TestMemoryStoreFailureLogsModel(t *testing.T) {
	const maxLogs = 30
	s := core.NewMemoryStore(core.MemoryOptions{MaxLogs: maxLogs})
	ctx := context.Background()
	type row struct {
		user string
		at   time.Time
	}
	var model []row // oldest first
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		now := memT0.Add(time.Duration(i) * time.Second)
		if rng.IntN(100) == 0 {
			before := time.Time{}
			if rng.IntN(2) == 0 {
				before = now.Add(-time.Duration(rng.IntN(40)) * time.Second)
			}
			n, err := s.DeleteFailureLogs(ctx, before)
			require.NoError(t, err)
			var kept []row
			for _, r := range model {
				if !before.IsZero() && !r.at.Before(before) {
					kept = append(kept, r)
				}
			}
			require.Equal(t, len(model)-len(kept), n, "op %d: DeleteFailureLogs: got %d removed, want %d", i, n, len(model)-len(kept))
			model = kept
			continue
		}
		user := "u" + strconv.Itoa(rng.IntN(6))
		perUser := rng.IntN(5)
		require.NoError(t, s.RecordFailure(ctx, core.AttemptRecord{Username: user, LastAttempt: now}, true, false, perUser))
		model = append(model, row{user, now})
		if perUser > 0 {
			for {
				var idx []int
				for j, r := range model {
					if r.user == user {
						idx = append(idx, j)
					}
				}
				if len(idx) <= perUser {
					break
				}
				model = append(model[:idx[0]], model[idx[0]+1:]...)
			}
		}
		for len(model) > maxLogs {
			model = model[1:]
		}
		if i%97 == 0 || i > 4900 {
			got, total, err := s.FailureLogs(ctx, core.ListQuery{Sort: "time", Asc: true})
			require.NoError(t, err)
			require.Equal(t, len(model), total, "op %d: total: got %d, want %d", i, total, len(model))
			for j := range got {
				require.Equal(t, model[j].user, got[j].Username, "op %d: row %d: username", i, j)
				require.True(t, model[j].at.Equal(got[j].Time), "op %d: row %d: got time %v, want %v", i, j, got[j].Time, model[j].at)
			}
		}
	}
}

// The record cap evicts the record with the oldest LastAttempt, even when
// records arrive out of time order.
func TestMemoryStoreRecordCapEvictsOldestTime(t *testing.T) {
	s := core.NewMemoryStore(core.MemoryOptions{MaxRecords: 3})
	ctx := context.Background()
	for _, r := range []struct {
		user string
		at   int
	}{{"a", 10}, {"b", 5}, {"c", 7}, {"d", 20}, {"e", 1}, {"a", 30}} {
		rec := core.AttemptRecord{Username: r.user, IP: "10.0.0.1", LastAttempt: memT0.Add(time.Duration(r.at) * time.Second)}
		require.NoError(t, s.RecordFailure(ctx, rec, false, false, 0))
	}
	as, total, err := s.Attempts(ctx, core.ListQuery{Sort: "last_attempt", Asc: true})
	require.NoError(t, err)
	require.Equal(t, 3, total)
	var got []string
	for _, a := range as {
		got = append(got, fmt.Sprintf("%s@%d×%d", a.Username, int(a.LastAttempt.Sub(memT0).Seconds()), a.Failures))
	}
	assert.Equal(t, []string{"e@1×1", "d@20×1", "a@30×2"}, got)
	n, err := s.Reset(ctx, core.Filter{Username: "d"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, total, err = s.Attempts(ctx, core.ListQuery{})
	require.NoError(t, err)
	assert.Equal(t, 2, total)
}
