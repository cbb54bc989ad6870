package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/core/storetest"
	"github.com/goaxes/axes/stores/internal/sqlcommon/sqltest"
	"github.com/goaxes/axes/stores/sqlitestore"
)

var t0 = sqltest.T0

func open(t testing.TB, path string) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err, "Open(%s)", path)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store {
		return open(t, filepath.Join(t.TempDir(), "axes.db"))
	})
}

func TestStoreOnCallersDB(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "app.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	n := 0
	storetest.Run(t, func(t *testing.T) core.Store {
		n++
		s, err := sqlitestore.New(db, sqlitestore.Options{TablePrefix: fmt.Sprintf("t%d_", n)})
		require.NoError(t, err, "New")
		return s
	})
	s, err := sqlitestore.New(db, sqlitestore.Options{})
	require.NoError(t, err, "New")
	require.NoError(t, s.Close(), "Close")
	require.NoError(t, db.Ping(), "the caller's db after Close: got closed, want open")
}

// ip and alice are the keys of most tests; keySets runs a test on ip alone
// (one statement a Hit) and on both (a transaction).
var (
	ip      = core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
	alice   = core.NewKey(core.ParamUsername, "", "alice", "")
	keySets = []struct {
		name string
		keys []core.Key
	}{
		{"one key", []core.Key{ip}},
		{"two keys", []core.Key{ip, alice}},
	}
)

func TestTwoConnectionsExactLimit(t *testing.T) {
	for _, tt := range keySets {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shared.db")
			a, b := open(t, path), open(t, path)
			p := core.Policy{Limit: 5, CoolOff: time.Hour}
			got := sqltest.HitAll(t, []core.Store{a, b}, 100, p, tt.keys...)
			assert.Equal(t, []int{1, 2, 3, 4, 5}, got, "counts let through by two *sql.DB on one file: got %v, want 1..5 once each", got)
		})
	}
}

// TestTwoProcessesExactLimit runs the exact-limit scenario in two child
// processes (this test binary) on one file.
func TestTwoProcessesExactLimit(t *testing.T) {
	if path := os.Getenv("AXES_SQLITE_CHILD_DB"); path != "" {
		s, err := sqlitestore.Open(path, sqlitestore.Options{})
		require.NoError(t, err)
		defer s.Close()
		// Wait for the sibling, so that both processes hit at once.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(path + ".go"); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		got := sqltest.HitAll(t, []core.Store{s}, 50, core.Policy{Limit: 5, CoolOff: time.Hour},
			core.NewKey(core.ParamIPAddress, "10.0.0.1", "", ""), core.NewKey(core.ParamUsername, "", "alice", ""))
		fmt.Printf("ALLOWED %d\n", len(got))
		return
	}
	if testing.Short() {
		t.Skip("starts two processes")
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	open(t, path).Close() // create the schema once
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcessesExactLimit$", "-test.count=1")
		cmd.Env = append(os.Environ(), "AXES_SQLITE_CHILD_DB="+path)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	time.Sleep(100 * time.Millisecond) // both open the file
	require.NoError(t, os.WriteFile(path+".go", nil, 0o600))
	total := 0
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "child %d: %s", i, outs[i])
		var n int
		for _, line := range strings.Split(outs[i].String(), "\n") {
			if v, ok := strings.CutPrefix(line, "ALLOWED "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		total += n
	}
	assert.Equal(t, 5, total, "Hits let through by two processes on one file with limit 5: got %d, want 5", total)
	s := open(t, path)
	out := make([]core.Counter, 1)
	require.NoError(t, s.Peek(context.Background(), []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}, t0, core.Policy{Limit: 5}, out))
	assert.Equal(t, 5, out[0].Failures, "final count: got %d, want 5", out[0].Failures)
}

func TestLockoutSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "durable.db")
	key := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
	p := core.Policy{Limit: 3, CoolOff: time.Hour}
	ctx := context.Background()
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	out := make([]core.Counter, 1)
	for i := range 3 {
		_, err := s.Hit(ctx, key, t0.Add(time.Duration(i)*time.Microsecond), p, out)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())

	s = open(t, path)
	locked, err := s.Hit(ctx, key, t0.Add(time.Minute), p, out)
	require.NoError(t, err)
	assert.True(t, locked, "after reopening: got not locked, want locked")
	assert.Equal(t, 3, out[0].Failures, "after reopening: got %d failures, want 3", out[0].Failures)
	assert.True(t, out[0].Last.Equal(t0.Add(2*time.Microsecond)), "after reopening: Last got %v, want %v (exact to the microsecond)", out[0].Last, t0.Add(2*time.Microsecond))
}

func TestClosedDBErrors(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "closed.db"), sqlitestore.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	sqltest.ClosedErrors(t, s, "axes: sqlitestore")
}

func TestOptions(t *testing.T) {
	_, err := sqlitestore.Open(filepath.Join(t.TempDir(), "x.db"), sqlitestore.Options{TablePrefix: "bad; DROP"})
	assert.ErrorContains(t, err, "TablePrefix", "a bad prefix: got %v, want an error naming TablePrefix", err)
	_, err = sqlitestore.Open("", sqlitestore.Options{})
	assert.Error(t, err, "an empty path")
	ddl, err := sqlitestore.Schema(sqlitestore.Options{TablePrefix: "app_"})
	require.NoError(t, err)
	assert.Contains(t, ddl, "CREATE TABLE IF NOT EXISTS app_counters", "Schema with a prefix")
	assert.NotContains(t, ddl, "axes_", "Schema with a prefix")
	s := open(t, ":memory:")
	out := make([]core.Counter, 1)
	_, err = s.Hit(context.Background(), []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}, t0, core.Policy{Limit: 1}, out)
	require.NoError(t, err, "Hit on :memory:")
	assert.Equal(t, 1, out[0].Failures, "Hit on :memory:")
}

// refuse hits keys n times at now and requires every Hit to be refused.
func refuse(t *testing.T, s core.Store, n int, now time.Time, p core.Policy, keys ...core.Key) []core.Counter {
	t.Helper()
	out := make([]core.Counter, len(keys))
	for i := range n {
		locked, err := s.Hit(context.Background(), keys, now, p, out)
		require.NoError(t, err, "refusal %d", i+1)
		require.True(t, locked, "refusal %d: got not locked, want locked", i+1)
	}
	return out
}

func peekOne(t *testing.T, s core.Store, now time.Time, p core.Policy, k core.Key) core.Counter {
	t.Helper()
	out := make([]core.Counter, 1)
	require.NoError(t, s.Peek(context.Background(), []core.Key{k}, now, p, out), "Peek")
	return out[0]
}

// TestRefusalsOfLockedKeysAreKept: refusals that extend a lockout, counted
// in memory, reach the file by Close and by the batch window, and another
// store on the same file sees them.
func TestRefusalsOfLockedKeysAreKept(t *testing.T) {
	p := core.Policy{Limit: 3, CoolOff: time.Hour, ExtendDuringLockout: true}
	for _, tt := range keySets {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kept.db")
			s, err := sqlitestore.Open(path, sqlitestore.Options{})
			require.NoError(t, err)
			out := make([]core.Counter, len(tt.keys))
			for i := range 3 {
				_, err := s.Hit(context.Background(), tt.keys, t0.Add(time.Duration(i)*time.Millisecond), p, out)
				require.NoError(t, err)
			}
			last := t0.Add(time.Minute)
			got := refuse(t, s, 50, last, p, tt.keys...)
			for i := range tt.keys {
				assert.Equal(t, 53, got[i].Failures, "key %d after 50 refusals: got %d failures, want 53", i, got[i].Failures)
				assert.True(t, got[i].Last.Equal(last), "key %d: Last got %v, want %v", i, got[i].Last, last)
			}
			c := peekOne(t, s, last, p, ip)
			assert.Equal(t, 53, c.Failures, "Peek after 50 refusals: got %d failures, want 53", c.Failures)

			// Another store on the file sees them once the batch is written.
			other := open(t, path)
			require.Eventually(t, func() bool { return peekOne(t, other, last, p, ip).Failures == 53 }, 10*time.Second, 5*time.Millisecond,
				"another store's Peek never showed the 50 refusals")

			refuse(t, s, 7, last.Add(time.Second), p, tt.keys...)
			require.NoError(t, s.Close())
			s = open(t, path)
			for i, k := range tt.keys {
				c := peekOne(t, s, last.Add(time.Second), p, k)
				assert.Equal(t, 60, c.Failures, "key %d after Close and reopening: got %d failures, want 60", i, c.Failures)
				assert.True(t, c.Last.Equal(last.Add(time.Second)), "key %d after reopening: Last got %v, want %v", i, c.Last, last.Add(time.Second))
			}
		})
	}
}

// TestResetByAnotherProcessUnlocks: a reset made through another store on
// the same file (as `axes reset-ip` does) unlocks a client that this store
// refuses from memory, and the refusals it counted do not outlive the
// reset.
func TestResetByAnotherProcessUnlocks(t *testing.T) {
	p := core.Policy{Limit: 3, CoolOff: time.Hour, ExtendDuringLockout: true}
	for _, tt := range []struct {
		name      string
		reset     func(t *testing.T, cli core.Store)
		hitsAfter int // hits by the other store after its reset
	}{
		{"reset", func(t *testing.T, cli core.Store) {
			n, err := cli.Reset(context.Background(), core.Filter{IP: "10.0.0.1"})
			require.NoError(t, err)
			assert.Equal(t, 1, n, "counters removed by Reset: got %d, want 1", n)
		}, 0},
		{"clear then a new failure", func(t *testing.T, cli core.Store) {
			require.NoError(t, cli.Clear(context.Background(), []core.Key{ip}))
		}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "reset.db")
			app := open(t, path)
			out := make([]core.Counter, 1)
			for range 3 {
				_, err := app.Hit(context.Background(), []core.Key{ip}, t0, p, out)
				require.NoError(t, err)
			}
			refuse(t, app, 20, t0.Add(time.Second), p, ip)

			cli := open(t, path)
			tt.reset(t, cli)
			for range tt.hitsAfter {
				locked, err := cli.Hit(context.Background(), []core.Key{ip}, t0.Add(2*time.Second), p, out)
				require.NoError(t, err)
				require.False(t, locked, "the other store's Hit after its reset: got locked")
			}
			require.Eventually(t, func() bool {
				return peekOne(t, app, t0.Add(2*time.Second), p, ip).Failures == tt.hitsAfter
			}, 10*time.Second, time.Millisecond, "the app never saw the other store's reset")
			locked, err := app.Hit(context.Background(), []core.Key{ip}, t0.Add(3*time.Second), p, out)
			require.NoError(t, err)
			assert.False(t, locked, "the app's Hit after the reset: got locked, want allowed")
			assert.Equal(t, tt.hitsAfter+1, out[0].Failures, "the app's Hit after the reset: got %d failures, want %d", out[0].Failures, tt.hitsAfter+1)
			require.NoError(t, app.Close())
			c := peekOne(t, cli, t0.Add(3*time.Second), p, ip)
			assert.Equal(t, tt.hitsAfter+1, c.Failures, "after the app's Close: got %d failures, want %d (refusals from before the reset came back)", c.Failures, tt.hitsAfter+1)
		})
	}
}

// TestTwoStoresRefusingOneKey: two stores on one file refuse the same
// locked client from memory; every refusal of both is counted once.
func TestTwoStoresRefusingOneKey(t *testing.T) {
	p := core.Policy{Limit: 3, CoolOff: time.Hour, ExtendDuringLockout: true}
	path := filepath.Join(t.TempDir(), "two.db")
	a, b := open(t, path), open(t, path)
	out := make([]core.Counter, 1)
	for range 3 {
		_, err := a.Hit(context.Background(), []core.Key{ip}, t0, p, out)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	for _, s := range []*sqlitestore.Store{a, b} {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := make([]core.Counter, 1)
				for i := range 250 {
					locked, err := s.Hit(context.Background(), []core.Key{ip}, t0.Add(time.Duration(i)*time.Millisecond), p, out)
					if !assert.NoError(t, err) || !assert.True(t, locked, "a refusal: got not locked") {
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	c := peekOne(t, open(t, path), t0, p, ip)
	assert.Equal(t, 3+2*4*250, c.Failures, "after 2000 refusals by two stores: got %d failures, want %d", c.Failures, 3+2*4*250)
}

// TestCacheOffAndSmall: the cache turned off, or smaller than the locked
// clients, counts the same.
func TestCacheOffAndSmall(t *testing.T) {
	p := core.Policy{Limit: 2, CoolOff: time.Hour, ExtendDuringLockout: true}
	for _, size := range []int{-1, 1, 2} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "small.db")
			s, err := sqlitestore.Open(path, sqlitestore.Options{CacheSize: size})
			require.NoError(t, err)
			var keys []core.Key
			for i := range 5 {
				keys = append(keys, core.NewKey(core.ParamIPAddress, fmt.Sprintf("10.0.0.%d", i), "", ""))
			}
			out := make([]core.Counter, 1)
			for round := range 10 {
				for _, k := range keys {
					locked, err := s.Hit(context.Background(), []core.Key{k}, t0.Add(time.Duration(round)*time.Second), p, out)
					require.NoError(t, err)
					assert.Equal(t, round >= 2, locked, "round %d: got locked=%v", round, locked)
					assert.Equal(t, round+1, out[0].Failures, "round %d: got %d failures", round, out[0].Failures)
				}
			}
			require.NoError(t, s.Close())
			s = open(t, path)
			for _, k := range keys {
				c := peekOne(t, s, t0.Add(10*time.Second), p, k)
				assert.Equal(t, 10, c.Failures, "%s after reopening: got %d failures, want 10", k.IP, c.Failures)
			}
		})
	}
	_, err := sqlitestore.Open(filepath.Join(t.TempDir(), "bad.db"), sqlitestore.Options{CacheSize: -2})
	assert.ErrorContains(t, err, "CacheSize", "CacheSize -2: got %v, want an error naming it", err)
	_, err = sqlitestore.Open(filepath.Join(t.TempDir(), "bad.db"), sqlitestore.Options{Recheck: -time.Second})
	assert.Error(t, err, "a negative Recheck")
}

// TestRefusalsWriteInBatches: while a client stays locked, its refusals
// commit nothing until the batch is written (here by Close, the window
// being an hour), and then they are all there.
func TestRefusalsWriteInBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "batch.db")
	s, err := sqlitestore.Open(path, sqlitestore.Options{BatchWindow: time.Hour})
	require.NoError(t, err)
	p := core.Policy{Limit: 3, CoolOff: time.Hour, ExtendDuringLockout: true}
	out := make([]core.Counter, 1)
	for range 4 { // the 4th is refused by its statement and caches the key
		_, err := s.Hit(context.Background(), []core.Key{ip}, t0, p, out)
		require.NoError(t, err)
	}

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	watch, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer watch.Close()
	version := func() int64 {
		var v int64
		require.NoError(t, watch.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v))
		return v
	}
	before := version()
	got := refuse(t, s, 100, t0.Add(time.Second), p, ip)
	assert.Equal(t, 104, got[0].Failures, "after 100 refusals: got %d failures, want 104", got[0].Failures)
	assert.Equal(t, before, version(), "data_version changed during the refusals: they were committed one by one")
	require.NoError(t, s.Close())
	assert.NotEqual(t, before, version(), "data_version after Close: the refusals were not written")
	var failures int
	require.NoError(t, watch.QueryRowContext(context.Background(), "SELECT failures FROM axes_counters WHERE id = $1", ip.ID).Scan(&failures))
	assert.Equal(t, 104, failures, "the row after Close: got %d failures, want 104", failures)
}

// TestLockoutSurvivesCrash: a process that locks a client and then dies
// without Close (its refusals still in memory) leaves the lockout in the
// file; only the refusals counted since the last batch are lost.
func TestLockoutSurvivesCrash(t *testing.T) {
	p := core.Policy{Limit: 3, CoolOff: time.Hour, ExtendDuringLockout: true}
	if path := os.Getenv("AXES_SQLITE_CRASH_DB"); path != "" {
		s, err := sqlitestore.Open(path, sqlitestore.Options{BatchWindow: time.Hour})
		require.NoError(t, err)
		out := make([]core.Counter, 1)
		for range 3 {
			_, err := s.Hit(context.Background(), []core.Key{ip}, t0, p, out)
			require.NoError(t, err)
		}
		refuse(t, s, 100, t0.Add(time.Second), p, ip)
		os.Exit(0) // no Close: a crash
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockoutSurvivesCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AXES_SQLITE_CRASH_DB="+path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child: %s", out)
	s := open(t, path)
	c := peekOne(t, s, t0.Add(time.Minute), p, ip)
	assert.GreaterOrEqual(t, c.Failures, 4, "after the crash: got %d failures, want the lockout (at least 4)", c.Failures)
	assert.LessOrEqual(t, c.Failures, 103, "after the crash: got %d failures, want at most 103", c.Failures)
	locked, err := s.Hit(context.Background(), []core.Key{ip}, t0.Add(time.Minute), p, make([]core.Counter, 1))
	require.NoError(t, err)
	assert.True(t, locked, "after the crash: got not locked, want locked")
}
