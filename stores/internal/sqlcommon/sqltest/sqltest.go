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
