package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/core/storetest"
	"github.com/goaxes/axes/internal/leakcheck"
	"github.com/goaxes/axes/stores/internal/sqlcommon/sqltest"
	"github.com/goaxes/axes/stores/pgstore"
)

// pgURL returns the test server's URL; without one the test is skipped, or
// fails under AXES_REQUIRE_SERVICES=1 (make test).
func pgURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("AXES_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
			t.Fatal("AXES_TEST_POSTGRES_URL is not set and AXES_REQUIRE_SERVICES=1: PostgreSQL is required")
		}
		t.Skip("AXES_TEST_POSTGRES_URL is not set")
	}
	return u
}

// newPool returns a pool on the test server, closed when t ends.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgURL(t))
	require.NoError(t, err, "pgxpool.New")
	t.Cleanup(pool.Close)
	return pool
}

// freshSchema returns the name of a new schema, dropped when t ends.
func freshSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "axes_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// newStore returns a store in a fresh schema of the shared pool.
func newStore(t testing.TB, pool *pgxpool.Pool) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(pool, pgstore.Options{Schema: freshSchema(t, pool)})
	require.NoError(t, err, "pgstore.New")
	return s
}

func TestStore(t *testing.T) {
	pool := newPool(t)
	storetest.Run(t, func(t *testing.T) core.Store { return newStore(t, pool) })
}

var t0 = sqltest.T0

// TestTwoPoolsExactLimit plays two app instances on one database: two
// pools, 100 concurrent Hits, limit 5.
func TestTwoPoolsExactLimit(t *testing.T) {
	ip := core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
	user := core.NewKey(core.ParamUsername, "", "alice", "")
	pair := core.NewKey(core.ParamIPAddress|core.ParamUsername, "10.0.0.1", "alice", "")
	for _, tt := range []struct {
		name string
		keys []core.Key
	}{
		{"one key", []core.Key{ip}},
		{"three keys", []core.Key{pair, ip, user}},
	} {
		for _, extend := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/extend=%v", tt.name, extend), func(t *testing.T) {
				poolA, poolB := newPool(t), newPool(t)
				schema := freshSchema(t, poolA)
				a, err := pgstore.New(poolA, pgstore.Options{Schema: schema})
				require.NoError(t, err)
				b, err := pgstore.New(poolB, pgstore.Options{Schema: schema})
				require.NoError(t, err)
				p := core.Policy{Limit: 5, CoolOff: time.Hour, ExtendDuringLockout: extend}
				got := sqltest.HitAll(t, []core.Store{a, b}, 100, p, tt.keys...)
				assert.Equal(t, []int{1, 2, 3, 4, 5}, got, "counts let through by two pools: got %v, want 1..5 once each", got)
				out := make([]core.Counter, len(tt.keys))
				require.NoError(t, b.Peek(context.Background(), tt.keys, t0, p, out))
				want := 5
				if extend {
					want = 100
				}
				for i, c := range out {
					assert.Equal(t, want, c.Failures, "final count of key %d: got %d, want %d", i, c.Failures, want)
				}
			})
		}
	}
}

// TestStartTogether creates the schema from several pools at once.
func TestStartTogether(t *testing.T) {
	pool := newPool(t)
	schema := freshSchema(t, pool)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := pgstore.New(pool, pgstore.Options{Schema: schema, TablePrefix: "app_"})
			assert.NoError(t, err, "New, eight at once")
		}()
	}
	wg.Wait()
}

func TestTablePrefixesIsolated(t *testing.T) {
	pool := newPool(t)
	schema := freshSchema(t, pool)
	a, err := pgstore.New(pool, pgstore.Options{Schema: schema, TablePrefix: "one_"})
	require.NoError(t, err)
	b, err := pgstore.New(pool, pgstore.Options{Schema: schema, TablePrefix: "two_"})
	require.NoError(t, err)
	keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", ""), core.NewKey(core.ParamUsername, "", "bob", "")}
	out := make([]core.Counter, 2)
	p := core.Policy{Limit: 3}
	_, err = a.Hit(context.Background(), keys, t0, p, out)
	require.NoError(t, err)
	require.NoError(t, b.Peek(context.Background(), keys, t0, p, out))
	assert.Equal(t, 0, out[0].Failures, "a Hit under one prefix seen under another: got %d, want 0", out[0].Failures)

	_, err = pgstore.New(pool, pgstore.Options{TablePrefix: "x y"})
	assert.ErrorContains(t, err, "TablePrefix", "a bad prefix")
	ddl, err := pgstore.Schema(pgstore.Options{Schema: "My Schema", TablePrefix: "app_"})
	require.NoError(t, err)
	assert.Contains(t, ddl, `CREATE TABLE IF NOT EXISTS "My Schema".app_counters`, "Schema qualifies tables")
	assert.Contains(t, ddl, `CREATE INDEX IF NOT EXISTS app_counters_ip ON "My Schema".app_counters`, "Schema leaves index names unqualified")
}

func TestClosedPoolErrors(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgURL(t))
	require.NoError(t, err)
	schema := freshSchema(t, newPool(t))
	s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	pool.Close()
	sqltest.ClosedErrors(t, s, "axes: pgstore")
}

func TestOpenErrorsHidePassword(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range []string{
		"postgres://axes:" + pw + "@127.0.0.1:1/axes?sslmode=disable&connect_timeout=2",
		"postgres://axes:" + pw + "@127.0.0.1:notaport/axes",
		"postgres://axes:" + pw + "@127.0.0.1/axes?sslmode=bogus",
		"host=127.0.0.1 port=1 user=axes password=" + pw + " sslmode=disable connect_timeout=2",
		"host=127.0.0.1 password='" + pw + "' sslmode=nonsense",
	} {
		_, err := pgstore.Open(ctx, u, pgstore.Options{})
		if assert.Error(t, err, "Open(a bad URL)") {
			assert.NotContains(t, err.Error(), pw, "the error of a bad URL echoes its password: %v", err)
			assert.Contains(t, err.Error(), "axes: pgstore:", "error prefix")
		}
	}
}

// TestOpenNoSecret opens every PostgreSQL form of leakcheck (URLs and
// keyword/value strings) with Open, on an address where nothing listens and
// on the test server: the error, if any, shows no secret.
func TestOpenNoSecret(t *testing.T) {
	for where, addr := range leakcheck.Addresses(t) {
		for _, f := range leakcheck.Forms(addr[0], addr[1]) {
			if !f.Postgres {
				continue
			}
			t.Run(where+"/"+f.Name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				s, err := pgstore.Open(ctx, f.URL, pgstore.Options{Schema: "axes_leakcheck"})
				if err == nil {
					require.NoError(t, s.Close())
					return
				}
				assert.Contains(t, err.Error(), "axes: pgstore:")
				leakcheck.NoSecret(t, f, "the error", err.Error())
			})
		}
	}
}

func TestOpenOwnsPool(t *testing.T) {
	u, err := url.Parse(pgURL(t))
	require.NoError(t, err)
	schema := freshSchema(t, newPool(t))
	s, err := pgstore.Open(context.Background(), u.String(), pgstore.Options{Schema: schema})
	require.NoError(t, err, "Open")
	out := make([]core.Counter, 1)
	_, err = s.Hit(context.Background(), []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}, t0, core.Policy{Limit: 3}, out)
	require.NoError(t, err, "Hit")
	require.NoError(t, s.Close(), "Close")
	_, err = s.Hit(context.Background(), []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}, t0, core.Policy{Limit: 3}, out)
	assert.Error(t, err, "Hit after Close of a store from Open: the pool is closed")
}

// TestTimesExact checks that times round-trip to the microsecond.
func TestTimesExact(t *testing.T) {
	s := newStore(t, newPool(t))
	ctx := context.Background()
	at := t0.Add(123456 * time.Microsecond)
	out := make([]core.Counter, 1)
	_, err := s.Hit(ctx, []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}, at.Add(789*time.Nanosecond), core.Policy{Limit: 3}, out)
	require.NoError(t, err)
	assert.True(t, out[0].Last.Equal(at), "Last: got %v, want %v", out[0].Last, at)
	require.NoError(t, s.RecordLogin(ctx, core.AccessLog{Username: "a", IP: "10.0.0.1", LoginTime: at}))
	ls, _, err := s.AccessLogs(ctx, core.ListQuery{})
	require.NoError(t, err)
	require.Len(t, ls, 1)
	assert.True(t, ls[0].LoginTime.Equal(at), "LoginTime: got %v, want %v", ls[0].LoginTime, at)
}
