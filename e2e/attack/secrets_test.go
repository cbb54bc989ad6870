package attack_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/goaxes/axes/core"
)

const mask = "********************"

// TestSecretsG5 logs in and fails with known passwords and other sensitive
// fields against each store, then dumps everything the store holds (the
// SQLite file, the PostgreSQL tables, the Redis keys and values), the admin
// page's JSON and every log line: no password appears, and sensitive form
// fields appear masked (docs/design.md G5).
func TestSecretsG5(t *testing.T) {
	t.Parallel()
	combos := []struct{ store, fw string }{{"memory", "fiber"}, {"sqlite", "gin"}, {"postgres", "echo"}, {"redis", "nethttp"}}
	for _, cb := range combos {
		t.Run(cb.store, func(t *testing.T) {
			t.Parallel()
			tag := strings.ToUpper(cb.store[:2])
			secrets := map[string]string{
				"alice's password":   "AlicePw-" + tag + "-k9",
				"bob's password":     "BobPw-" + tag + "-q7",
				"wrong form pw":      "WrongFormPw-" + tag + "-x1",
				"wrong JSON pw":      "WrongJsonPw-" + tag + "-x2",
				"query password":     "QueryPw-" + tag + "-x3",
				"otp":                "OtpSecret-" + tag + "-x4",
				"token":              "TokSecret-" + tag + "-x5",
				"JSON secret":        "JsonSecret-" + tag + "-x6",
				"lockout pw":         "LockPw-" + tag + "-x7",
				"custom sensitive":   "PinSecret-" + tag + "-x8",
				"password1 (signup)": "NewPw-" + tag + "-x9",
			}
			var storeURL string
			var dump func() string
			switch cb.store {
			case "memory":
				storeURL = "memory"
			case "sqlite":
				path := t.TempDir() + "/axes.db"
				storeURL = "sqlite:" + path
				dump = func() string { return dumpSQLite(t, path) }
			case "postgres":
				storeURL = sharedPostgres(t)
				dump = func() string { return dumpPostgres(t, storeURL) }
			case "redis":
				var rdb *redis.Client
				storeURL, rdb = sharedRedis(t)
				dump = func() string { return dumpRedis(t, rdb) }
			}
			a := startApp(t, cb.fw, "AXES_STORE="+storeURL,
				"DEMO_USERS=alice:"+secrets["alice's password"]+",bob:"+secrets["bob's password"],
				"AXES_ADMIN_USERS=alice", "AXES_ENABLE_ACCESS_FAILURE_LOG=true", "AXES_VERBOSE=true",
				"AXES_LOCKOUT_PARAMETERS=username,ip_address",
				"AXES_SENSITIVE_PARAMETERS=password,password1,otp,token,secret,pin")

			c := client(t, nextIP(), 2)
			r := mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", secrets["wrong form pw"],
				"otp", secrets["otp"], "token", secrets["token"], "pin", secrets["custom sensitive"], "password1", secrets["password1 (signup)"],
				"note", "visible-note"))
			require.Equal(t, 401, r.status)
			r = mustPost(t, client(t, nextIP(), 1), a.base+"/login?password="+url.QueryEscape(secrets["query password"])+"&next=/visible-next", "form",
				formBody("username", "alice", "password", secrets["wrong form pw"]))
			require.Equal(t, 401, r.status)
			c = client(t, nextIP(), 1)
			r = mustPost(t, c, a.base+"/api/login", "json", fmt.Sprintf(`{"username":"bob","password":%q,"secret":%q,"note":"visible-json"}`,
				secrets["wrong JSON pw"], secrets["JSON secret"]))
			require.Equal(t, 403, r.status)
			r = mustPost(t, c, a.base+"/api/login", "json", jsonLogin("bob", secrets["bob's password"]))
			require.Equal(t, 200, r.status, r.body)
			lc := client(t, nextIP(), 1)
			for i, want := range []int{401, 401, 429, 429} {
				r = mustPost(t, lc, a.base+"/login", "form", formBody("username", "carol", "password", secrets["lockout pw"]))
				require.Equal(t, want, r.status, "carol's attempt %d", i+1)
			}
			// alice logs in (she is the admin), reads the admin JSON, logs out.
			admin := client(t, nextIP(), 1)
			r = mustPost(t, admin, a.base+"/login", "form", formBody("username", "alice", "password", secrets["alice's password"]))
			require.Equal(t, http.StatusSeeOther, r.status, r.body)
			var adminJSON strings.Builder
			for _, page := range []string{"", "attempts", "access-logs", "failure-logs"} {
				resp, err := admin.Get(a.base + "/admin/axes/" + page + "?format=json")
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.Equal(t, 200, resp.StatusCode, "admin %s: %s", page, b)
				adminJSON.Write(b)
			}
			r = mustPost(t, admin, a.base+"/logout", "form", "")
			require.Equal(t, http.StatusSeeOther, r.status)

			stored := adminJSON.String()
			if dump != nil {
				stored = dump() + "\n" + stored
			}
			logs := a.logs(t)
			for what, s := range secrets {
				assert.NotContains(t, stored, s, "%s in what the %s store holds", what, cb.store)
				assert.NotContains(t, logs, s, "%s in the app's log", what)
			}
			assert.Contains(t, stored, mask, "sensitive fields are kept masked")
			assert.Contains(t, stored, "visible-note", "non-sensitive fields are kept, so the masks above mean something")
			t.Logf("FIGURE secrets %s/%s: %d bytes of store dump and admin JSON, %d bytes of log: no password, %d masked values",
				cb.store, cb.fw, len(stored), len(logs), strings.Count(stored, mask))
		})
	}
}

func dumpSQLite(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	var out strings.Builder
	tables := queryStrings(t, db, "SELECT name FROM sqlite_master WHERE type = 'table'")
	require.NotEmpty(t, tables)
	for _, tbl := range tables {
		rows, err := db.Query(`SELECT * FROM "` + tbl + `"`)
		require.NoError(t, err)
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			fmt.Fprintf(&out, "%s:", tbl)
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(&out, " %s=%v", cols[i], v)
			}
			out.WriteString("\n")
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	// The file's raw bytes too (freed pages, the WAL).
	for _, f := range []string{path, path + "-wal"} {
		if b, err := readFile(f); err == nil {
			out.Write(b)
		}
	}
	return out.String()
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	return out
}

func dumpPostgres(t *testing.T, u string) string {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	conn, err := pgx.Connect(ctx, u)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	var out strings.Builder
	for _, tbl := range tables {
		rows, err := conn.Query(ctx, "SELECT row_to_json(t)::text FROM "+pgx.Identifier{tbl}.Sanitize()+" t")
		require.NoError(t, err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		for _, l := range lines {
			fmt.Fprintf(&out, "%s: %s\n", tbl, l)
		}
	}
	return out.String()
}

func dumpRedis(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	var keys []string
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	require.NoError(t, iter.Err())
	require.NotEmpty(t, keys)
	sort.Strings(keys)
	var out strings.Builder
	for _, k := range keys {
		typ, err := rdb.Type(ctx, k).Result()
		require.NoError(t, err)
		var v any
		switch typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "list":
			v, err = rdb.LRange(ctx, k, 0, -1).Result()
		case "set":
			v, err = rdb.SMembers(ctx, k).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "stream":
			v, err = rdb.XRange(ctx, k, "-", "+").Result()
		default:
			v = "(type " + typ + ")"
		}
		require.NoError(t, err, k)
		fmt.Fprintf(&out, "%s %s: %v\n", typ, k, v)
	}
	return out.String()
}

// TestSecretsG5Events: the events and log lines of the engine, at debug
// level with everything verbose, never carry the password or another
// sensitive field, including on store errors.
func TestSecretsG5Events(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs bytes.Buffer
	var mu sync.Mutex
	var events []string
	cfg := core.DefaultConfig()
	cfg.Verbose = true
	cfg.EnableAccessFailureLog = true
	cfg.LockoutParameters = []core.Combination{core.ParamUsername, core.ParamIPAddress, core.ParamIPAddress | core.ParamUserAgent}
	cfg.Logger = slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Events = core.EventHandlerFunc(func(_ context.Context, ev core.Event) {
		mu.Lock()
		events = append(events, fmt.Sprintf("%+v", ev))
		mu.Unlock()
	})
	const pw, otp = "EventPw-s3cret", "EventOtp-s3cret"
	for _, st := range []core.Store{core.NewMemoryStore(core.MemoryOptions{}), failingStore{}} {
		cfg.Store = st
		e, err := core.New(cfg)
		require.NoError(t, err)
		req := &core.Request{RemoteAddr: "198.51.100.7:1234", Method: "POST", Path: "/login", RawQuery: "password=" + pw,
			Header: http.Header{"User-Agent": {"ua"}}, Username: "alice",
			Form: url.Values{"username": {"alice"}, "password": {pw}, "otp": {otp}}}
		for range 4 {
			a := e.Begin(ctx, req)
			a.Fail(ctx)
		}
		e.Begin(ctx, req).Succeed(ctx)
		e.ReportSuccess(ctx, req)
		e.ReportLogout(ctx, req)
		_, _ = e.Reset(ctx, core.Filter{Username: "alice"})
	}
	mu.Lock()
	defer mu.Unlock()
	all := logs.String() + strings.Join(events, "\n")
	require.NotEmpty(t, events)
	assert.Contains(t, all, "store error", "the failing store was logged")
	assert.NotContains(t, all, pw)
	assert.NotContains(t, all, otp)
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// failingStore fails every call, with an error that carries no secret.
type failingStore struct{}

var errDown = fmt.Errorf("connection refused")

func (failingStore) Hit(context.Context, []core.Key, time.Time, core.Policy, []core.Counter) (bool, error) {
	return false, errDown
}
func (failingStore) Release(context.Context, []core.Key, time.Time, core.Policy) error {
	return errDown
}
func (failingStore) Peek(context.Context, []core.Key, time.Time, core.Policy, []core.Counter) error {
	return errDown
}
func (failingStore) Clear(context.Context, []core.Key) error         { return errDown }
func (failingStore) Reset(context.Context, core.Filter) (int, error) { return 0, errDown }
func (failingStore) Close() error                                    { return nil }

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
