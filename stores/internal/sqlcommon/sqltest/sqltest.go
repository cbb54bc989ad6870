// Package sqltest holds the test and benchmark code that the SQL stores
// (sqlitestore, pgstore) run alike on their own stores. Only their tests
// import it.
package sqltest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/goaxes/axes/core"
)

// T0 is the time the tests and benchmarks start from.
var T0 = time.Unix(1_700_000_000, 0).UTC()

// HitAll runs workers Hits at T0 at once on keys, spread over stores, and
// returns the counts of the first key of those that were not locked,
// sorted.
func HitAll(t *testing.T, stores []core.Store, workers int, p core.Policy, keys ...core.Key) []int {
	t.Helper()
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed []int
	)
	for i := range workers {
		wg.Add(1)
		go func(s core.Store) {
			defer wg.Done()
			out := make([]core.Counter, len(keys))
			<-start
			locked, err := s.Hit(context.Background(), keys, T0, p, out)
			mu.Lock()
			defer mu.Unlock()
			if assert.NoError(t, err, "Hit") && !locked {
				allowed = append(allowed, out[0].Failures)
			}
		}(stores[i%len(stores)])
	}
	close(start)
	wg.Wait()
	slices.Sort(allowed)
	return allowed
}

// ClosedErrors checks that every operation of s, whose database is gone
// (a closed pool or file), is an error, and that a one-key Hit's error
// names the store's operation: prefix is "axes: pgstore" or
// "axes: sqlitestore".
func ClosedErrors(t *testing.T, s interface {
	core.Store
	core.RecordStore
}, prefix string) {
	t.Helper()
	ctx := context.Background()
	keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", ""), core.NewKey(core.ParamUsername, "", "bob", "")}
	out := make([]core.Counter, 2)
	p := core.Policy{Limit: 3}
	_, err := s.Hit(ctx, keys[:1], T0, p, out)
	assert.ErrorContains(t, err, prefix+": hit:", "Hit on a closed store")
	_, err = s.Hit(ctx, keys, T0, p, out)
	assert.Error(t, err, "Hit of two keys on a closed store")
	assert.Error(t, s.Peek(ctx, keys, T0, p, out), "Peek on a closed store")
	assert.Error(t, s.Release(ctx, keys, T0, p), "Release on a closed store")
	_, err = s.Reset(ctx, core.Filter{})
	assert.Error(t, err, "Reset on a closed store")
	assert.Error(t, s.RecordFailure(ctx, core.AttemptRecord{Username: "bob", LastAttempt: T0}, true, false, 3), "RecordFailure on a closed store")
	_, _, err = s.Attempts(ctx, core.ListQuery{})
	assert.Error(t, err, "Attempts on a closed store")
}
