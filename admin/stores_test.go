package admin_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/pgstore"
	"github.com/goaxes/axes/stores/redisstore"
	"github.com/goaxes/axes/stores/sqlitestore"
)

// service returns the URL in env of a real service; without one the test
// is skipped, or fails under AXES_REQUIRE_SERVICES=1 (make test).
func service(t *testing.T, env string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set and AXES_REQUIRE_SERVICES=1", env)
		}
		t.Skipf("%s is not set", env)
	}
	return u
}

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stores returns a fresh, empty store of every kind, each closed and
// removed when its test ends.
var stores = map[string]func(t *testing.T) core.Store{
	"memory": func(t *testing.T) core.Store { return core.NewMemoryStore(core.MemoryOptions{}) },
	"sqlite": func(t *testing.T) core.Store {
		s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "axes.db"), sqlitestore.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	},
	"postgres": func(t *testing.T) core.Store {
		pool, err := pgxpool.New(context.Background(), service(t, "AXES_TEST_POSTGRES_URL"))
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		schema := "axes_admin_" + randomName()
		t.Cleanup(func() {
			_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		})
		s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
		require.NoError(t, err)
		return s
	},
	"redis": func(t *testing.T) core.Store {
		opts, err := redis.ParseURL(service(t, "AXES_TEST_REDIS_URL"))
		require.NoError(t, err)
		rdb := redis.NewClient(opts)
		t.Cleanup(func() { _ = rdb.Close() })
		prefix := "axesadmin:" + randomName() + ":"
		t.Cleanup(func() {
			ctx := context.Background()
			iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				rdb.Del(ctx, iter.Val())
			}
		})
		s, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		require.NoError(t, err)
		return s
	},
}

// TestBlankResetsRefused: a reset by username, by IP or of selected rows
// whose value is blank once canonicalised (U+200B, U+0001, U+00AD, spaces)
// or not an IP address is refused with an error on the attempts page and
// resets nothing, on every store; "reset everything" stays its own button.
func TestBlankResetsRefused(t *testing.T) {
	sel := func(ip, username string) string { return url.Values{"ip": {ip}, "username": {username}}.Encode() }
	tests := []struct {
		name string
		form url.Values
		want string // the error the redirect names
	}{
		{"username U+200B", url.Values{"action": {"username"}, "username": {"\u200b"}}, "username"},
		{"username U+0001", url.Values{"action": {"username"}, "username": {"\x01"}}, "username"},
		{"username U+00AD", url.Values{"action": {"username"}, "username": {"\u00ad"}}, "username"},
		{"username of bidi and NUL", url.Values{"action": {"username"}, "username": {"\u202e\x00\ufeff"}}, "username"},
		{"username of spaces", url.Values{"action": {"username"}, "username": {" \u3000 "}}, "username"},
		{"IP of spaces", url.Values{"action": {"ip"}, "ip": {" "}}, "ip"},
		{"selected row without IP, username U+200B", url.Values{"action": {"selected"}, "sel": {sel("", "\u200b")}}, "selection"},
		{"selected row with a blank username", url.Values{"action": {"selected"}, "sel": {sel("", "")}}, "selection"},
		{"selected row with a bad IP", url.Values{"action": {"selected"}, "sel": {sel("not-an-ip", "")}}, "selection"},
		{"selected rows, one bad", url.Values{"action": {"selected"}, "sel": {sel("10.0.0.1", "alice"), sel("", "\u00ad")}}, "selection"},
		{"selected row that does not parse", url.Values{"action": {"selected"}, "sel": {"%zz"}}, "selection"},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					e := newEngineOn(t, newStore(t), core.ParamIPAddress, core.ParamUsername)
					fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
					fail(t, e, "10.0.0.2", "bob", "curl/8", 3)
					s := newSite(t, e, nil)
					tc.form.Set("csrf", s.token())
					resp, _ := s.do(http.MethodPost, "reset", tc.form, true)
					require.Equal(t, http.StatusSeeOther, resp.StatusCode)
					assert.Equal(t, "attempts?error="+tc.want, resp.Header.Get("Location"))
					for _, c := range [][2]string{{"10.0.0.1", "alice"}, {"10.0.0.2", "bob"}} {
						assert.True(t, locked(t, e, c[0], c[1]), "%s (%s) unlocked by a refused reset", c[0], c[1])
					}
					rs, _ := e.Records()
					_, n, err := rs.Attempts(context.Background(), core.ListQuery{})
					require.NoError(t, err)
					assert.Equal(t, 2, n, "attempt records removed by a refused reset")
					_, body := s.do(http.MethodGet, resp.Header.Get("Location"), nil, true)
					assert.Contains(t, body, "Nothing was reset.")
				})
			}
			t.Run("a selected row with a blank username resets its IP alone", func(t *testing.T) {
				e := newEngineOn(t, newStore(t), core.ParamIPAddress, core.ParamUsername)
				fail(t, e, "10.0.0.1", "", "curl/8", 3)
				fail(t, e, "10.0.0.2", "bob", "curl/8", 3)
				s := newSite(t, e, nil)
				form := url.Values{"action": {"selected"}, "sel": {sel("10.0.0.1", "")}, "csrf": {s.token()}}
				resp, _ := s.do(http.MethodPost, "reset", form, true)
				require.Equal(t, http.StatusSeeOther, resp.StatusCode)
				assert.Equal(t, "attempts?removed=1", resp.Header.Get("Location"))
				assert.False(t, locked(t, e, "10.0.0.1", ""))
				assert.True(t, locked(t, e, "10.0.0.2", "bob"))
			})
		})
	}
}
