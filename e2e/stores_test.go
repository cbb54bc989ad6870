package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// service returns the URL of a real service from the environment that
// make test sets, skipping without it unless AXES_REQUIRE_SERVICES=1.
func service(t *testing.T, name string) string {
	t.Helper()
	u := os.Getenv(name)
	if u == "" {
		if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set (make test starts the services)", name)
		}
		t.Skipf("%s is not set; run make test", name)
	}
	return u
}

// freshPostgres creates a database of its own for one test and returns its
// URL, so that other packages' tests on the same server cannot disturb it.
func freshPostgres(t *testing.T) string {
	t.Helper()
	base := service(t, "AXES_TEST_POSTGRES_URL")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer conn.Close(ctx)
	name := fmt.Sprintf("axes_e2e_%d", time.Now().UnixNano())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

// freshRedis returns a Redis URL on a database number of this test's own,
// emptied first.
func freshRedis(t *testing.T, db int) string {
	t.Helper()
	base := service(t, "AXES_TEST_REDIS_URL")
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = fmt.Sprintf("/%d", db)
	opt, err := redis.ParseURL(u.String())
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	require.NoError(t, rdb.FlushDB(context.Background()).Err())
	return u.String()
}

// failUntilLocked fails the form login from c until the app answers 429.
func failUntilLocked(t *testing.T, c *http.Client, base string, limit int) {
	t.Helper()
	for i := 1; i <= limit; i++ {
		resp, body := do(t, c, http.MethodPost, base+"/login", form("username", "alice", "password", "wrong"))
		want := http.StatusUnauthorized
		if i == limit {
			want = http.StatusTooManyRequests
		}
		require.Equal(t, want, resp.StatusCode, "failure %d: %s", i, body)
	}
}

// TestLockoutSurvivesRestart: a lockout in SQLite or PostgreSQL outlives
// the app process (docs/design.md G6: durable stores keep lockouts across restarts).
func TestLockoutSurvivesRestart(t *testing.T) {
	bin := build(t, "nethttp", t.TempDir())
	stores := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "axes.db") },
		"postgres": freshPostgres,
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			env := []string{"AXES_STORE=" + store, "AXES_COOLOFF_TIME=30m"}
			c := client(t, "127.0.0.21")
			first := start(t, bin, env...)
			failUntilLocked(t, c, first, 3)
			// A second process on the same store, started after the first
			// one locked the client: a restarted app.
			second := start(t, bin, env...)
			resp, body := do(t, c, http.MethodPost, second+"/login", form("username", "alice", "password", "wonderland"))
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "still locked after the restart: %s", body)
			assert.NotEmpty(t, resp.Header.Get("Retry-After"))
			other := client(t, "127.0.0.22")
			resp, body = do(t, other, http.MethodPost, second+"/login", form("username", "alice", "password", "wonderland"))
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "another client logs in: %s", body)
		})
	}
}

// TestSharedState: two app instances on one Redis, and two on one
// PostgreSQL, see one lockout state (docs/design.md G8): failures made on one lock
// the client on the other.
func TestSharedState(t *testing.T) {
	bin := build(t, "gin", t.TempDir())
	stores := map[string]func(t *testing.T) string{
		"redis":    func(t *testing.T) string { return freshRedis(t, 9) },
		"postgres": freshPostgres,
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			env := []string{"AXES_STORE=" + store, "AXES_FAILURE_LIMIT=4", "AXES_COOLOFF_TIME=10m"}
			a, b := start(t, bin, env...), start(t, bin, env...)
			c := client(t, "127.0.0.23")
			for i, base := range []string{a, b, a} {
				resp, body := do(t, c, http.MethodPost, base+"/login", form("username", "alice", "password", "wrong"))
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "failure %d: %s", i+1, body)
			}
			resp, body := do(t, c, http.MethodPost, b+"/login", form("username", "alice", "password", "wrong"))
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the 4th failure, on b, locks: %s", body)
			resp, body = do(t, c, http.MethodPost, a+"/login", form("username", "alice", "password", "wonderland"))
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "a sees b's lockout: %s", body)
			resp, _ = do(t, c, http.MethodPost, a+"/api/login", jsonBody(`{"username":"alice","password":"wonderland"}`))
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		})
	}
}
