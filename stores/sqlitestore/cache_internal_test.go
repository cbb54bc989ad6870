package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// TestCacheBounded: however many clients are locked, the cache holds at
// most CacheSize keys (docs/design.md G4), and the keys it leaves out still count.
func TestCacheBounded(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "bounded.db"), Options{CacheSize: 8})
	require.NoError(t, err)
	defer s.Close()
	t0 := time.Unix(1_700_000_000, 0).UTC()
	p := core.Policy{Limit: 1, CoolOff: time.Hour, ExtendDuringLockout: true}
	out := make([]core.Counter, 1)
	for round := range 3 {
		for i := range 50 {
			k := []core.Key{core.NewKey(core.ParamIPAddress, fmt.Sprintf("10.0.1.%d", i), "", "")}
			locked, err := s.Hit(context.Background(), k, t0, p, out)
			require.NoError(t, err)
			assert.Equal(t, round > 0, locked, "round %d, client %d: got locked=%v", round, i, locked)
			assert.Equal(t, round+1, out[0].Failures, "round %d, client %d: got %d failures", round, i, out[0].Failures)
		}
		s.cache.mu.Lock()
		n := len(s.cache.m)
		s.cache.mu.Unlock()
		assert.LessOrEqual(t, n, 8, "round %d: got %d cached keys, want at most 8", round, n)
	}
}
