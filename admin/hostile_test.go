package admin_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/pgstore"
	"github.com/goaxes/axes/stores/sqlitestore"
)

// hostileStores are the stores TestHostileBytes runs on: memory, SQLite
// and, when AXES_TEST_POSTGRES_URL is set, PostgreSQL (which refuses
// invalid UTF-8 and NUL in text).
func hostileStores(t *testing.T) map[string]func(t *testing.T) core.Store {
	stores := map[string]func(t *testing.T) core.Store{
		"memory": func(*testing.T) core.Store { return core.NewMemoryStore(core.MemoryOptions{}) },
		"sqlite": func(t *testing.T) core.Store {
			s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "axes.db"), sqlitestore.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	u := os.Getenv("AXES_TEST_POSTGRES_URL")
	if u == "" && os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
		t.Fatal("AXES_TEST_POSTGRES_URL is not set and AXES_REQUIRE_SERVICES=1: PostgreSQL is required")
	}
	if u != "" {
		stores["postgres"] = func(t *testing.T) core.Store {
			ctx := context.Background()
			pool, err := pgxpool.New(ctx, u)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			var b [6]byte
			_, _ = rand.Read(b[:])
			schema := "axes_admin_test_" + hex.EncodeToString(b[:])
			t.Cleanup(func() {
				_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
				assert.NoError(t, err, "drop schema")
			})
			s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
			require.NoError(t, err)
			return s
		}
	}
	return stores
}

var (
	usernameLink = regexp.MustCompile(`href="(attempts\?username=[^"]*)"`)
	selBox       = regexp.MustCompile(`name="sel" value="([^"]*)"`)
)

// An attacker whose user agent, path, query and username carry invalid
// UTF-8 and NUL is listed, found by a search for those bytes (raw or
// percent-encoded), shown locked, and reset from its row; no search or
// filter answers 503 or shows the database's error.
func TestHostileBytes(t *testing.T) {
	for name, newStore := range hostileStores(t) {
		t.Run(name, func(t *testing.T) {
			cfg := core.DefaultConfig()
			cfg.Store = newStore(t)
			cfg.LockoutParameters = []core.Combination{core.ParamIPAddress | core.ParamUserAgent}
			cfg.CoolOff = 30 * time.Minute
			cfg.EnableAccessFailureLog = true
			c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
			cfg.Clock = c.now
			cfg.Logger = slog.New(slog.DiscardHandler)
			e, err := core.New(cfg)
			require.NoError(t, err)
			ctx := context.Background()
			s := newSite(t, e, nil)
			searchesWork := func(when string) {
				t.Helper()
				for _, q := range []string{"%00", "%ff", "%2500", "%25ff", "%5C", "%EF%BF%BD", "evil%ff%00agent", "%00%00%00"} {
					for _, page := range []string{"attempts", "access-logs", "failure-logs", ""} {
						for _, format := range []string{"", "&format=json"} {
							path := page + "?q=" + q + format
							resp, body := s.do(http.MethodGet, path, nil, true)
							assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s: %s", when, path, body)
							assert.NotContains(t, body, "SQLSTATE", "%s: %s", when, path)
							assert.NotContains(t, body, "store failed", "%s: %s", when, path)
						}
					}
				}
				for _, f := range []string{"username=%00", "username=%ff", "username=mal%5Clory%00%ff", "ip=%00"} {
					resp, body := s.do(http.MethodGet, "attempts?format=json&"+f, nil, true)
					assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s: %s", when, f, body)
				}
			}
			searchesWork("no records yet")

			r := &core.Request{RemoteAddr: "192.0.2.66:4000", Method: http.MethodPost, Path: "/login\x00\xff",
				RawQuery: "next=%ff%00", Username: "mal\\lory\x00\xff",
				Header: http.Header{"User-Agent": {"evil\xff\x00agent"}}}
			for range 3 {
				require.NoError(t, e.ReportFailure(ctx, r).Err)
			}
			require.Equal(t, core.Locked, e.Status(ctx, r).Outcome)
			e.ReportSuccess(ctx, &core.Request{RemoteAddr: "192.0.2.77:4000", Method: http.MethodPost, Path: "/login\x00",
				Username: "ok\xff", Header: http.Header{"User-Agent": {"good\x00agent"}}})
			searchesWork("with the hostile records")

			// A search for the raw bytes finds the row, locked.
			var got struct {
				Total    int `json:"total"`
				Attempts []struct {
					IP       string `json:"ip"`
					Username string `json:"username"`
					Locked   bool   `json:"locked"`
				} `json:"attempts"`
			}
			_, body := s.do(http.MethodGet, "attempts?format=json&q=evil%ff%00agent", nil, true)
			require.NoError(t, json.Unmarshal([]byte(body), &got), body)
			require.Equal(t, 1, got.Total, body)
			assert.Equal(t, "192.0.2.66", got.Attempts[0].IP)
			assert.True(t, got.Attempts[0].Locked, "the row shows its lockout")
			var logs struct {
				Total int `json:"total"`
			}
			for _, page := range []string{"failure-logs", "access-logs"} {
				_, body = s.do(http.MethodGet, page+"?format=json&q=%00", nil, true)
				require.NoError(t, json.Unmarshal([]byte(body), &logs), body)
				assert.Positive(t, logs.Total, "%s: a search for NUL finds the hostile rows", page)
			}

			// The row's username link filters to the row.
			_, body = s.do(http.MethodGet, "attempts", nil, true)
			m := usernameLink.FindStringSubmatch(body)
			require.NotNil(t, m, "no username link on the attempts page")
			_, body = s.do(http.MethodGet, html.UnescapeString(m[1])+"&format=json", nil, true)
			require.NoError(t, json.Unmarshal([]byte(body), &got), body)
			assert.Equal(t, 1, got.Total, "the username link %s", m[1])

			// Reset by the row's checkbox (its IP and username) unlocks it.
			_, body = s.do(http.MethodGet, "attempts", nil, true)
			m = selBox.FindStringSubmatch(body)
			require.NotNil(t, m, "no row checkbox on the attempts page")
			sel := html.UnescapeString(m[1])
			resp, _ := s.do(http.MethodPost, "reset", url.Values{"action": {"selected"}, "sel": {sel}, "csrf": {s.token()}}, true)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, "attempts?removed=1", resp.Header.Get("Location"))
			assert.Equal(t, core.Allowed, e.Status(ctx, r).Outcome, "after the reset of the row")
		})
	}
}
