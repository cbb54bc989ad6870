package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/core/storetest"
	"github.com/goaxes/axes/stores/sqlitestore"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

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

// hitAll runs workers Hits at once on keys, spread over stores, and returns
// the counts of the first key of those that were not locked.
func hitAll(t *testing.T, stores []core.Store, workers int, p core.Policy, keys ...core.Key) []int {
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
			locked, err := s.Hit(context.Background(), keys, t0, p, out)
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

func TestTwoConnectionsExactLimit(t *testing.T) {
	ip := core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
	user := core.NewKey(core.ParamUsername, "", "alice", "")
	for _, tt := range []struct {
		name string
		keys []core.Key
	}{
		{"one key", []core.Key{ip}},
		{"two keys", []core.Key{ip, user}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shared.db")
			a, b := open(t, path), open(t, path)
			p := core.Policy{Limit: 5, CoolOff: time.Hour}
			got := hitAll(t, []core.Store{a, b}, 100, p, tt.keys...)
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
		got := hitAll(t, []core.Store{s}, 50, core.Policy{Limit: 5, CoolOff: time.Hour},
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
	ctx := context.Background()
	keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", ""), core.NewKey(core.ParamUsername, "", "bob", "")}
	out := make([]core.Counter, 2)
	p := core.Policy{Limit: 3}
	_, err = s.Hit(ctx, keys[:1], t0, p, out)
	assert.ErrorContains(t, err, "axes: sqlitestore: hit:", "Hit on a closed store")
	_, err = s.Hit(ctx, keys, t0, p, out)
	assert.Error(t, err, "Hit of two keys on a closed store")
	assert.Error(t, s.Peek(ctx, keys, t0, p, out), "Peek on a closed store")
	assert.Error(t, s.Release(ctx, keys, t0, p), "Release on a closed store")
	_, err = s.Reset(ctx, core.Filter{})
	assert.Error(t, err, "Reset on a closed store")
	_, _, err = s.Attempts(ctx, core.ListQuery{})
	assert.Error(t, err, "Attempts on a closed store")
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
