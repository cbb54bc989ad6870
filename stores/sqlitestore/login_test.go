package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/sqlitestore"
)

// accessLogs returns the access logs of s and their total.
func accessLogs(t *testing.T, s *sqlitestore.Store) ([]core.AccessLog, int) {
	t.Helper()
	logs, n, err := s.AccessLogs(context.Background(), core.ListQuery{})
	require.NoError(t, err, "AccessLogs")
	return logs, n
}

// TestReleaseAndRecordLoginAllOrNothing: the release and the access log are
// one transaction: when the log's INSERT fails, no counter was released;
// when it succeeds, both are there.
func TestReleaseAndRecordLoginAllOrNothing(t *testing.T) {
	for _, tt := range keySets {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "login.db"))
			ctx := context.Background()
			_, err := s.DB().ExecContext(ctx, `CREATE TRIGGER refuse_boom BEFORE INSERT ON axes_access_logs
				WHEN NEW.username = 'boom' BEGIN SELECT RAISE(ABORT, 'no log for boom'); END`)
			require.NoError(t, err, "create the trigger")
			p := core.Policy{Limit: 5, CoolOff: time.Hour}
			for range 2 {
				_, err := s.Hit(ctx, tt.keys, t0, p, make([]core.Counter, len(tt.keys)))
				require.NoError(t, err, "Hit")
			}
			counts := func() []int {
				out := make([]core.Counter, len(tt.keys))
				require.NoError(t, s.Peek(ctx, tt.keys, t0, p, out), "Peek")
				n := make([]int, len(out))
				for i := range out {
					n[i] = out[i].Failures
				}
				return n
			}
			two, one := make([]int, len(tt.keys)), make([]int, len(tt.keys))
			for i := range two {
				two[i], one[i] = 2, 1
			}

			err = s.ReleaseAndRecordLogin(ctx, tt.keys, t0, p, core.AccessLog{Username: "boom", IP: "10.0.0.1", LoginTime: t0})
			require.ErrorContains(t, err, "no log for boom", "ReleaseAndRecordLogin with a failing INSERT")
			assert.Equal(t, two, counts(), "counters after the failed step: got %v, want %v (nothing released)", counts(), two)
			_, n := accessLogs(t, s)
			assert.Equal(t, 0, n, "access logs after the failed step: got %d, want 0", n)

			log := core.AccessLog{Username: "alice", IP: "10.0.0.1", UserAgent: "ua/1", Path: "/login", LoginTime: t0.Add(time.Second)}
			require.NoError(t, s.ReleaseAndRecordLogin(ctx, tt.keys, t0.Add(time.Second), p, log), "ReleaseAndRecordLogin")
			assert.Equal(t, one, counts(), "counters after the step: got %v, want %v", counts(), one)
			logs, n := accessLogs(t, s)
			require.Equal(t, 1, n, "access logs after the step: got %d, want 1", n)
			log.ID = logs[0].ID
			assert.Equal(t, log, logs[0], "the access log")
		})
	}
}

// TestReleaseAndRecordLoginWritesPendingRefusals: refusals of a locked key
// that are still counted in memory are written before the release takes
// one back, so the file, this store and another store on it agree.
func TestReleaseAndRecordLoginWritesPendingRefusals(t *testing.T) {
	for _, tt := range keySets {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pending.db")
			s, err := sqlitestore.Open(path, sqlitestore.Options{BatchWindow: time.Hour})
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			ctx := context.Background()
			p := core.Policy{Limit: 3, CoolOff: time.Hour, ExtendDuringLockout: true}
			for range 4 { // the 4th is refused by its statement and caches the keys
				_, err := s.Hit(ctx, tt.keys, t0, p, make([]core.Counter, len(tt.keys)))
				require.NoError(t, err)
			}
			got := refuse(t, s, 5, t0.Add(time.Second), p, tt.keys...)
			require.Equal(t, 9, got[0].Failures, "after 5 refusals from memory")

			now := t0.Add(2 * time.Second)
			require.NoError(t, s.ReleaseAndRecordLogin(ctx, tt.keys, now, p, core.AccessLog{Username: "alice", IP: "10.0.0.1", LoginTime: now}))
			other := open(t, path)
			for i, k := range tt.keys {
				c := peekOne(t, s, now, p, k)
				assert.Equal(t, 8, c.Failures, "key %d after the release: got %d failures, want 8", i, c.Failures)
				assert.True(t, c.Last.Equal(t0.Add(time.Second)), "key %d: Last got %v, want the last refusal's %v", i, c.Last, t0.Add(time.Second))
				c = peekOne(t, other, now, p, k)
				assert.Equal(t, 8, c.Failures, "key %d seen by another store: got %d failures, want 8", i, c.Failures)
			}
			_, n := accessLogs(t, other)
			assert.Equal(t, 1, n, "access logs seen by another store: got %d, want 1", n)

			// Still locked: the next Hit is refused and counted from the row.
			out := make([]core.Counter, len(tt.keys))
			locked, err := s.Hit(ctx, tt.keys, now, p, out)
			require.NoError(t, err)
			assert.True(t, locked, "Hit after the release: got allowed, want locked (8 failures, limit 3)")
			assert.Equal(t, 9, out[0].Failures, "Hit after the release: got %d failures, want 9", out[0].Failures)
		})
	}
}
