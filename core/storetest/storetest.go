// Package storetest checks that a core.Store keeps its contract: counting,
// locking, expiry, release, clear, reset by filter, exact limits under
// concurrency, cancelled contexts and, when the store is also a
// core.RecordStore, the records (and core.LoginStore when it has that), and
// requests full of bytes that databases refuse in text, through an Engine
// on the store. Every store's tests call Run, as handlers call
// testing/slogtest.Run:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) core.Store {
//			return mystore.New(freshClient(t))
//		})
//	}
//
// The clock is moved by hand, never slept on, and times are whole
// milliseconds, so stores that keep microseconds pass.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// t0 is the suite's epoch; every time is t0 plus whole milliseconds or
// seconds.
var t0 = time.Unix(1_700_000_000, 0).UTC()

// tick is the smallest step of time that every store tells apart: SQL
// stores keep microseconds.
const tick = time.Microsecond

// Run runs the conformance tests as subtests of t. newStore must return a
// fresh, empty store that shares no state with the stores of other calls;
// it may register cleanups on the t it is given (that of the subtest).
func Run(t *testing.T, newStore func(t *testing.T) core.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, func(*testing.T) core.Store)
	}{
		{"MissingKeys", testMissingKeys},
		{"HitCountsAndLocks", testHitCountsAndLocks},
		{"LimitZeroNeverLocks", testLimitZero},
		{"MultipleKeys", testMultipleKeys},
		{"KeysIsolated", testKeysIsolated},
		{"Expiry", testExpiry},
		{"Tiers", testTiers},
		{"Release", testRelease},
		{"Clear", testClear},
		{"Reset", testReset},
		{"EmptyFilter", testEmptyFilter},
		{"ParallelExactLimit", testParallelExactLimit},
		{"CancelledContext", testCancelledContext},
		{"Records", testRecords},
		{"LoginStore", testLoginStore},
		{"HostileBytes", testHostileBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

// Keys used across the suite.
var (
	keyIP1     = core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
	keyIP2     = core.NewKey(core.ParamIPAddress, "10.0.0.2", "", "")
	keyAlice   = core.NewKey(core.ParamUsername, "", "alice", "")
	keyBob     = core.NewKey(core.ParamUsername, "", "bob", "")
	keyIP1Bob  = core.NewKey(core.ParamIPAddress|core.ParamUsername, "10.0.0.1", "bob", "")
	keyIP1Ali  = core.NewKey(core.ParamIPAddress|core.ParamUsername, "10.0.0.1", "alice", "")
	keyIP2Ali  = core.NewKey(core.ParamIPAddress|core.ParamUsername, "10.0.0.2", "alice", "")
	keyIP1Curl = core.NewKey(core.ParamIPAddress|core.ParamUserAgent, "10.0.0.1", "", "curl/8")
	keyAliCurl = core.NewKey(core.ParamUsername|core.ParamUserAgent, "", "alice", "curl/8")
	keyV6      = core.NewKey(core.ParamIPAddress, "2001:db8::/64", "", "")
	keyV6Bob   = core.NewKey(core.ParamIPAddress|core.ParamUsername, "2001:db8::/64", "bob", "")
)

func hit(t *testing.T, s core.Store, now time.Time, p core.Policy, keys ...core.Key) (bool, []core.Counter) {
	t.Helper()
	out := make([]core.Counter, len(keys))
	locked, err := s.Hit(context.Background(), keys, now, p, out)
	require.NoError(t, err, "Hit")
	return locked, out
}

func peek(t *testing.T, s core.Store, now time.Time, p core.Policy, keys ...core.Key) []core.Counter {
	t.Helper()
	out := make([]core.Counter, len(keys))
	require.NoError(t, s.Peek(context.Background(), keys, now, p, out), "Peek")
	return out
}

func failures(cs []core.Counter) []int {
	n := make([]int, len(cs))
	for i, c := range cs {
		n[i] = c.Failures
	}
	return n
}

// sameTime asserts that got is want, allowing for stores that round.
func sameTime(t *testing.T, want, got time.Time, what string) bool {
	t.Helper()
	if want.IsZero() {
		return assert.True(t, got.IsZero(), "%s: got %v, want the zero time", what, got)
	}
	return assert.WithinDuration(t, want, got, time.Millisecond, "%s: got %v, want %v", what, got, want)
}

func testMissingKeys(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	ctx := context.Background()
	p := core.Policy{Limit: 3, CoolOff: time.Minute}
	got := peek(t, s, t0, p, keyIP1, keyAlice)
	for i, c := range got {
		assert.Equal(t, 0, c.Failures, "Peek of missing key %d: got %d failures, want 0", i, c.Failures)
		sameTime(t, time.Time{}, c.Last, "Peek of missing key: Last")
	}
	require.NoError(t, s.Release(ctx, []core.Key{keyIP1}, t0, p), "Release of a missing key")
	require.NoError(t, s.Clear(ctx, []core.Key{keyIP1, keyAlice}), "Clear of missing keys")
	got = peek(t, s, t0, p, keyIP1)
	assert.Equal(t, 0, got[0].Failures, "after Release and Clear of a missing key: got %d failures, want 0", got[0].Failures)
	// No keys at all is not an error.
	locked, err := s.Hit(ctx, nil, t0, p, nil)
	require.NoError(t, err, "Hit with no keys")
	assert.False(t, locked, "Hit with no keys: got locked, want not locked")
}

func testHitCountsAndLocks(t *testing.T, newStore func(*testing.T) core.Store) {
	for _, extend := range []bool{false, true} {
		t.Run(fmt.Sprintf("extend=%v", extend), func(t *testing.T) {
			s := newStore(t)
			p := core.Policy{Limit: 3, ExtendDuringLockout: extend}
			for i := 1; i <= 3; i++ {
				now := t0.Add(time.Duration(i-1) * time.Second)
				locked, out := hit(t, s, now, p, keyIP1)
				assert.False(t, locked, "Hit #%d: got locked, want not locked", i)
				assert.Equal(t, i, out[0].Failures, "Hit #%d: got count %d, want %d", i, out[0].Failures, i)
				sameTime(t, now, out[0].Last, fmt.Sprintf("Hit #%d: Last", i))
			}
			lastCounted := t0.Add(2 * time.Second)
			now := t0.Add(3 * time.Second)
			locked, out := hit(t, s, now, p, keyIP1)
			assert.True(t, locked, "Hit #4: got not locked, want locked")
			wantN, wantLast := 3, lastCounted
			if extend {
				wantN, wantLast = 4, now
			}
			assert.Equal(t, wantN, out[0].Failures, "Hit #4: got count %d, want %d", out[0].Failures, wantN)
			sameTime(t, wantLast, out[0].Last, "Hit #4: Last")
			got := peek(t, s, now, p, keyIP1)[0]
			assert.Equal(t, wantN, got.Failures, "Peek after Hit #4: got count %d, want %d", got.Failures, wantN)
			sameTime(t, wantLast, got.Last, "Peek after Hit #4: Last")
			assert.True(t, p.Locked(got, now), "Peek after Hit #4: got %+v, want a locked counter", got)
		})
	}
}

func testLimitZero(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	p := core.Policy{Limit: 0, ExtendDuringLockout: true}
	for i := 1; i <= 10; i++ {
		locked, out := hit(t, s, t0.Add(time.Duration(i)*time.Second), p, keyIP1)
		assert.False(t, locked, "Hit #%d with limit 0: got locked, want never locked", i)
		assert.Equal(t, i, out[0].Failures, "Hit #%d with limit 0: got count %d, want %d", i, out[0].Failures, i)
	}
}

func testMultipleKeys(t *testing.T, newStore func(*testing.T) core.Store) {
	t.Run("counted together", func(t *testing.T) {
		s := newStore(t)
		p := core.Policy{Limit: 5}
		hit(t, s, t0, p, keyAlice)
		hit(t, s, t0, p, keyAlice)
		locked, out := hit(t, s, t0.Add(time.Second), p, keyIP1, keyAlice, keyIP1Ali)
		assert.False(t, locked, "got locked, want not locked")
		assert.Equal(t, []int{1, 3, 1}, failures(out), "counts after one Hit on three keys: got %v, want [1 3 1]", failures(out))
		got := peek(t, s, t0.Add(time.Second), p, keyIP1, keyAlice, keyIP1Ali)
		assert.Equal(t, []int{1, 3, 1}, failures(got), "Peek: got %v, want [1 3 1]", failures(got))
		for i, c := range got {
			sameTime(t, t0.Add(time.Second), c.Last, fmt.Sprintf("Peek key %d: Last", i))
		}
	})
	for _, extend := range []bool{false, true} {
		t.Run(fmt.Sprintf("locked when any key is locked/extend=%v", extend), func(t *testing.T) {
			s := newStore(t)
			p := core.Policy{Limit: 3, ExtendDuringLockout: extend}
			// alice reaches the limit from 10.0.0.1.
			for i := 1; i <= 3; i++ {
				locked, out := hit(t, s, t0, p, keyIP1, keyAlice)
				assert.False(t, locked, "Hit #%d: got locked, want not locked", i)
				assert.Equal(t, []int{i, i}, failures(out), "Hit #%d: got %v, want [%d %d]", i, failures(out), i, i)
			}
			// From another IP, alice is still locked (OR); the new IP is
			// counted only when attempts during a lockout count.
			now := t0.Add(time.Second)
			locked, out := hit(t, s, now, p, keyIP2, keyAlice)
			assert.True(t, locked, "alice from a new IP: got not locked, want locked")
			want := []int{0, 3}
			if extend {
				want = []int{1, 4}
			}
			assert.Equal(t, want, failures(out), "alice from a new IP: got %v, want %v", failures(out), want)
			got := peek(t, s, now, p, keyIP2, keyAlice, keyIP1)
			want = append(want, 3)
			assert.Equal(t, want, failures(got), "Peek: got %v, want %v", failures(got), want)
			// Another user from a fresh IP is not locked: keys are only
			// combined with what the request names.
			locked, out = hit(t, s, now, p, keyIP2, keyBob)
			assert.False(t, locked, "bob from 10.0.0.2: got locked, want not locked")
			want = []int{1, 1}
			if extend {
				want = []int{2, 1}
			}
			assert.Equal(t, want, failures(out), "bob from 10.0.0.2: got %v, want %v", failures(out), want)
		})
	}
	t.Run("combination counts the pair only", func(t *testing.T) {
		s := newStore(t)
		p := core.Policy{Limit: 2}
		hit(t, s, t0, p, keyIP1Ali)
		hit(t, s, t0, p, keyIP1Ali)
		locked, _ := hit(t, s, t0, p, keyIP1Ali)
		assert.True(t, locked, "alice from 10.0.0.1 after 2 failures: got not locked, want locked")
		for _, k := range []core.Key{keyIP1Bob, keyIP2Ali} {
			locked, out := hit(t, s, t0, p, k)
			assert.False(t, locked, "%s: got locked, want not locked (AND: both values must match)", k.ID)
			assert.Equal(t, 1, out[0].Failures, "%s: got count %d, want 1", k.ID, out[0].Failures)
		}
	})
}

func testKeysIsolated(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	p := core.Policy{Limit: 3}
	// The same text as an IP, a username and a user agent: three keys.
	ip := core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
	user := core.NewKey(core.ParamUsername, "", "10.0.0.1", "")
	agent := core.NewKey(core.ParamUserAgent, "", "", "10.0.0.1")
	hit(t, s, t0, p, ip)
	hit(t, s, t0, p, ip)
	hit(t, s, t0, p, user)
	got := peek(t, s, t0, p, ip, user, agent, keyIP2)
	assert.Equal(t, []int{2, 1, 0, 0}, failures(got), "got %v, want [2 1 0 0]", failures(got))
}

func testExpiry(t *testing.T, newStore func(*testing.T) core.Store) {
	for _, extend := range []bool{false, true} {
		t.Run(fmt.Sprintf("extend=%v", extend), func(t *testing.T) {
			s := newStore(t)
			p := core.Policy{Limit: 3, CoolOff: 10 * time.Second, ExtendDuringLockout: extend}
			last := t0.Add(2 * time.Second)
			for i := range 3 {
				hit(t, s, t0.Add(time.Duration(i)*time.Second), p, keyIP1)
			}
			edge := last.Add(10 * time.Second)
			got := peek(t, s, edge, p, keyIP1)[0]
			assert.Equal(t, 3, got.Failures, "Peek at last+cool-off: got %d, want 3 (still counted)", got.Failures)
			assert.True(t, p.Locked(got, edge), "Peek at last+cool-off: got %+v, want locked", got)
			// Time never goes backwards in this test: a store may drop a
			// key once it has been read as expired.
			locked, out := hit(t, s, edge, p, keyIP1)
			assert.True(t, locked, "Hit at last+cool-off: got not locked, want locked")
			if extend {
				// Counted: the cool-off now runs from edge.
				assert.Equal(t, 4, out[0].Failures, "Hit at last+cool-off: got %d, want 4", out[0].Failures)
				last = edge
				edge = last.Add(10 * time.Second)
				got = peek(t, s, edge, p, keyIP1)[0]
				assert.Equal(t, 4, got.Failures, "Peek at the extended edge: got %d, want 4", got.Failures)
			} else {
				assert.Equal(t, 3, out[0].Failures, "Hit at last+cool-off: got %d, want 3", out[0].Failures)
			}
			got = peek(t, s, edge.Add(tick), p, keyIP1)[0]
			assert.Equal(t, 0, got.Failures, "Peek just after last+cool-off: got %d, want 0 (expired)", got.Failures)
			sameTime(t, time.Time{}, got.Last, "Peek of an expired key: Last")
			locked, out = hit(t, s, edge.Add(tick), p, keyIP1)
			assert.False(t, locked, "Hit after expiry: got locked, want not locked")
			assert.Equal(t, 1, out[0].Failures, "Hit after expiry: got %d, want 1 (counting starts again)", out[0].Failures)
			sameTime(t, edge.Add(tick), out[0].Last, "Hit after expiry: Last")
		})
	}
	t.Run("no cool-off never expires", func(t *testing.T) {
		s := newStore(t)
		p := core.Policy{Limit: 3}
		hit(t, s, t0, p, keyIP1)
		got := peek(t, s, t0.Add(24*365*time.Hour), p, keyIP1)[0]
		assert.Equal(t, 1, got.Failures, "a year later without cool-off: got %d, want 1", got.Failures)
	})
}

func testTiers(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	p := core.Policy{
		Limit:               3,
		CoolOff:             10 * time.Second,
		Tiers:               []core.Tier{{Failures: 3, CoolOff: time.Minute}, {Failures: 5, CoolOff: time.Hour}},
		ExtendDuringLockout: true,
	}
	// Two failures: the base cool-off.
	hit(t, s, t0, p, keyIP1)
	hit(t, s, t0, p, keyIP1)
	got := peek(t, s, t0.Add(10*time.Second+tick), p, keyIP1)[0]
	assert.Equal(t, 0, got.Failures, "2 failures after 10s: got %d, want 0 (base cool-off)", got.Failures)

	// Three failures: one minute.
	for range 3 {
		hit(t, s, t0, p, keyIP2)
	}
	got = peek(t, s, t0.Add(time.Minute), p, keyIP2)[0]
	assert.Equal(t, 3, got.Failures, "3 failures after 1m: got %d, want 3 (tier 3: 1m)", got.Failures)
	got = peek(t, s, t0.Add(time.Minute+tick), p, keyIP2)[0]
	assert.Equal(t, 0, got.Failures, "3 failures after 1m+: got %d, want 0", got.Failures)

	// Five failures (two of them during the lockout): one hour.
	for range 5 {
		hit(t, s, t0, p, keyAlice)
	}
	got = peek(t, s, t0.Add(time.Hour), p, keyAlice)[0]
	assert.Equal(t, 5, got.Failures, "5 failures after 1h: got %d, want 5 (tier 5: 1h)", got.Failures)
	locked, out := hit(t, s, t0.Add(time.Hour+tick), p, keyAlice)
	assert.False(t, locked, "Hit after 1h+: got locked, want not locked")
	assert.Equal(t, 1, out[0].Failures, "Hit after 1h+: got %d, want 1", out[0].Failures)
}

func testRelease(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	ctx := context.Background()
	p := core.Policy{Limit: 3, CoolOff: time.Minute}
	for i := range 3 {
		hit(t, s, t0.Add(time.Duration(i)*time.Second), p, keyIP1, keyAlice)
	}
	last := t0.Add(2 * time.Second)
	require.NoError(t, s.Release(ctx, []core.Key{keyIP1, keyAlice}, t0.Add(3*time.Second), p))
	got := peek(t, s, t0.Add(3*time.Second), p, keyIP1, keyAlice)
	assert.Equal(t, []int{2, 2}, failures(got), "after Release: got %v, want [2 2]", failures(got))
	for _, c := range got {
		sameTime(t, last, c.Last, "after Release: Last (unchanged)")
	}
	for range 3 {
		require.NoError(t, s.Release(ctx, []core.Key{keyIP1}, t0.Add(3*time.Second), p))
	}
	got = peek(t, s, t0.Add(3*time.Second), p, keyIP1, keyAlice)
	assert.Equal(t, []int{0, 2}, failures(got), "after more Releases than Hits: got %v, want [0 2] (never below zero)", failures(got))
	locked, out := hit(t, s, t0.Add(4*time.Second), p, keyIP1)
	assert.False(t, locked, "Hit after Release to zero: got locked, want not locked")
	assert.Equal(t, 1, out[0].Failures, "Hit after Release to zero: got %d, want 1", out[0].Failures)
}

func testClear(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	p := core.Policy{Limit: 3}
	hit(t, s, t0, p, keyIP1, keyAlice, keyBob)
	hit(t, s, t0, p, keyIP1, keyAlice, keyBob)
	require.NoError(t, s.Clear(context.Background(), []core.Key{keyIP1, keyAlice}))
	got := peek(t, s, t0, p, keyIP1, keyAlice, keyBob)
	assert.Equal(t, []int{0, 0, 2}, failures(got), "after Clear of two keys: got %v, want [0 0 2]", failures(got))
}

func testParallelExactLimit(t *testing.T, newStore func(*testing.T) core.Store) {
	const limit, workers = 5, 200
	for _, extend := range []bool{false, true} {
		t.Run(fmt.Sprintf("extend=%v", extend), func(t *testing.T) {
			s := newStore(t)
			p := core.Policy{Limit: limit, CoolOff: time.Hour, ExtendDuringLockout: extend}
			var (
				start = make(chan struct{})
				wg    sync.WaitGroup
				mu    sync.Mutex
				seen  []int // counts of the Hits that were let through
				errs  []error
			)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out := make([]core.Counter, 1)
					<-start
					locked, err := s.Hit(context.Background(), []core.Key{keyIP1}, t0, p, out)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					} else if !locked {
						seen = append(seen, out[0].Failures)
					}
				}()
			}
			close(start)
			wg.Wait()
			require.Empty(t, errs, "Hit errors")
			slices.Sort(seen)
			assert.Equal(t, []int{1, 2, 3, 4, 5}, seen, "counts of the Hits let through: got %v, want each of 1..%d once", seen, limit)
			want := limit
			if extend {
				want = workers
			}
			got := peek(t, s, t0, p, keyIP1)[0]
			assert.Equal(t, want, got.Failures, "final count: got %d, want %d", got.Failures, want)
		})
	}
}

func testCancelledContext(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	p := core.Policy{Limit: 3, ExtendDuringLockout: true}
	hit(t, s, t0, p, keyIP1)
	hit(t, s, t0, p, keyIP1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	keys := []core.Key{keyIP1}
	out := make([]core.Counter, 1)
	calls := []struct {
		name string
		call func() error
	}{
		{"Hit", func() error { _, err := s.Hit(ctx, keys, t0, p, out); return err }},
		{"Release", func() error { return s.Release(ctx, keys, t0, p) }},
		{"Peek", func() error { return s.Peek(ctx, keys, t0, p, out) }},
		{"Clear", func() error { return s.Clear(ctx, keys) }},
		{"Reset", func() error { _, err := s.Reset(ctx, core.Filter{}); return err }},
	}
	for _, c := range calls {
		err := c.call()
		assert.True(t, errors.Is(err, context.Canceled), "%s with a cancelled context: got error %v, want context.Canceled", c.name, err)
	}
	got := peek(t, s, t0, p, keyIP1)[0]
	assert.Equal(t, 2, got.Failures, "after calls with a cancelled context: got %d, want 2 (unchanged)", got.Failures)
}
