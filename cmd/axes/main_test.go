package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/leakcheck"
	"github.com/goaxes/axes/stores/storeurl"
)

// binary is the axes command built once for the tests that run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "axes-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "axes")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// axes runs the built binary with args, the environment without any AXES_*
// variable plus env ("NAME=value").
func axes(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AXES_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return r
}

// ok runs axes and requires exit status 0.
func ok(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := axes(t, env, args...)
	require.Equal(t, 0, r.code, "axes %s: exit status %d, want 0\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	return r.stdout
}

func service(t *testing.T, env, what string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set and AXES_REQUIRE_SERVICES=1: %s is required", env, what)
		}
		t.Skipf("%s is not set: no %s to test against", env, what)
	}
	return u
}

// storeURLs returns a fresh, empty store of each kind.
func storeURLs(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string {
			return "sqlite:" + filepath.Join(t.TempDir(), "axes.db")
		},
		"postgres": func(t *testing.T) string {
			base := service(t, "AXES_TEST_POSTGRES_URL", "PostgreSQL")
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, base)
			require.NoError(t, err)
			b := make([]byte, 6)
			_, _ = rand.Read(b)
			db := "axes_cli_" + hex.EncodeToString(b)
			_, err = conn.Exec(ctx, "CREATE DATABASE "+db)
			require.NoError(t, err)
			t.Cleanup(func() {
				_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
				_ = conn.Close(context.Background())
			})
			u, err := url.Parse(base)
			require.NoError(t, err)
			u.Path = "/" + db
			return u.String()
		},
		"redis": func(t *testing.T) string {
			base := service(t, "AXES_TEST_REDIS_URL", "Redis")
			u, err := url.Parse(base)
			require.NoError(t, err)
			u.Path = "/11" // a database of its own: the commands reset everything in it
			s := u.String()
			emptyStore(t, s)
			return s
		},
	}
}

// emptyStore empties a store: counters, records and logs.
func emptyStore(t *testing.T, storeURL string) {
	t.Helper()
	ctx := context.Background()
	e, closer := engineAt(t, storeURL, time.Now)
	defer closer()
	_, err := e.ResetAll(ctx)
	require.NoError(t, err)
	rs, ok := e.Records()
	require.True(t, ok)
	_, err = rs.DeleteAccessLogs(ctx, time.Time{})
	require.NoError(t, err)
	_, err = rs.DeleteFailureLogs(ctx, time.Time{})
	require.NoError(t, err)
}

func engineAt(t *testing.T, storeURL string, clock func() time.Time) (*core.Engine, func()) {
	t.Helper()
	st, c, err := storeurl.Open(context.Background(), storeURL)
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.Store = st
	cfg.EnableAccessFailureLog = true
	cfg.Clock = clock
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := core.New(cfg)
	require.NoError(t, err)
	return e, func() { _ = c.Close() }
}

func login(ip, username, ua string) *core.Request {
	return &core.Request{RemoteAddr: ip + ":50000", Method: http.MethodPost, Path: "/login", Username: username, Header: http.Header{"User-Agent": {ua}}}
}

// seed fills a store: two days ago, 2 failures of "old" from 10.9.9.9 and a
// login of carol; now, alice locked from 10.0.0.1 (3 failures), bob with 1
// failure from 10.0.0.2, and a login of carol.
func seed(t *testing.T, storeURL string) {
	t.Helper()
	ctx := context.Background()
	then := time.Now().Add(-48 * time.Hour)
	old, closeOld := engineAt(t, storeURL, func() time.Time { return then })
	defer closeOld()
	for range 2 {
		old.ReportFailure(ctx, login("10.9.9.9", "old", "curl/8"))
	}
	old.ReportSuccess(ctx, login("10.0.0.3", "carol", "Firefox"))
	e, closeNew := engineAt(t, storeURL, time.Now)
	defer closeNew()
	for range 3 {
		e.ReportFailure(ctx, login("10.0.0.1", "alice", "Mozilla/5.0 \x1b[31mred\x1b[0m"))
	}
	e.ReportFailure(ctx, login("10.0.0.2", "bob", "curl/8"))
	e.ReportSuccess(ctx, login("10.0.0.3", "carol", "Firefox"))
}

func TestStores(t *testing.T) {
	for name, fresh := range storeURLs(t) {
		t.Run(name, func(t *testing.T) {
			storeURL := fresh(t)
			seed(t, storeURL)
			env := []string{"AXES_STORE=" + storeURL}

			t.Run("list", func(t *testing.T) {
				out := ok(t, env, "list")
				lines := strings.Split(strings.TrimSpace(out), "\n")
				require.Len(t, lines, 4, out)
				assert.Regexp(t, `^IP\s+USERNAME\s+USER AGENT\s+FAILURES\s+LAST ATTEMPT\s+LOCKED$`, lines[0])
				assert.Regexp(t, `^10\.0\.0\.2\s+bob\s+curl/8\s+1\s+\S+ \S+\s+no \(2 left\)$`, lines[1])
				assert.Regexp(t, `^10\.0\.0\.1\s+alice\s+Mozilla/5\.0 \\x1b\[31mred\\x1b\[0m\s+3\s+\S+ \S+\s+yes, until reset$`, lines[2], "control characters must be escaped")
				assert.Regexp(t, `^10\.9\.9\.9\s+old\s+curl/8\s+2\s+`, lines[3])
				assert.NotContains(t, out, "\x1b")

				out = ok(t, env, "list", "--locked")
				assert.Contains(t, out, "alice")
				assert.NotContains(t, out, "bob")
				out = ok(t, []string{"AXES_FAILURE_LIMIT=5"}, "list", "--store", storeURL, "--locked")
				assert.Equal(t, "No attempts found.\n", out, "AXES_FAILURE_LIMIT must apply")
				out = ok(t, env, "list", "--search", "BOB")
				assert.Contains(t, out, "bob")
				assert.NotContains(t, out, "alice")

				var rows []struct {
					IP           string     `json:"ip"`
					Username     string     `json:"username"`
					UserAgent    string     `json:"user_agent"`
					Failures     int        `json:"failures"`
					Locked       bool       `json:"locked"`
					LockedUntil  *time.Time `json:"locked_until"`
					AttemptsLeft *int       `json:"attempts_left"`
					LastAttempt  time.Time  `json:"last_attempt"`
				}
				out = ok(t, env, "list", "--json")
				require.NoError(t, json.Unmarshal([]byte(out), &rows), out)
				require.Len(t, rows, 3)
				assert.Equal(t, "alice", rows[1].Username)
				assert.True(t, rows[1].Locked)
				assert.Nil(t, rows[1].LockedUntil, "no cool-off: locked until reset")
				assert.Equal(t, "Mozilla/5.0 \x1b[31mred\x1b[0m", rows[1].UserAgent, "JSON keeps the text as is")
				require.NotNil(t, rows[0].AttemptsLeft)
				assert.Equal(t, 2, *rows[0].AttemptsLeft)
				assert.WithinDuration(t, time.Now(), rows[0].LastAttempt, time.Minute)

				out = ok(t, []string{"AXES_COOLOFF_TIME=30m"}, "--store", storeURL, "list", "--json", "--locked")
				require.NoError(t, json.Unmarshal([]byte(out), &rows), out)
				require.Len(t, rows, 1)
				require.NotNil(t, rows[0].LockedUntil)
				assert.WithinDuration(t, time.Now().Add(30*time.Minute), *rows[0].LockedUntil, time.Minute)
			})

			t.Run("log pruning", func(t *testing.T) {
				assert.Equal(t, "2 logs removed.\n", ok(t, env, "reset-failure-logs", "--age", "1d"))
				assert.Equal(t, "No logs found.\n", ok(t, env, "reset-failure-logs", "--age=24h"))
				assert.Equal(t, "1 logs removed.\n", ok(t, env, "reset-logs", "--age", "1"))
				assert.Equal(t, "No logs found.\n", ok(t, env, "reset-logs"))
				assert.Equal(t, "1 logs removed.\n", ok(t, env, "reset-logs", "--age", "0"))
				assert.Equal(t, "4 logs removed.\n", ok(t, env, "reset-failure-logs", "--age", "0s"))
			})

			t.Run("a blank value never resets everything", func(t *testing.T) {
				before := ok(t, env, "list")
				for _, args := range [][]string{
					{"reset-username", "\u200b"}, // zero-width space
					{"reset-username", "\x01"},   // a control character
					{"reset-username", "\u00ad"}, // soft hyphen
					{"reset-user", "\u202e\ufeff"},
					{"reset-username", " \t"},
					{"reset-username", "alice", "\u200b"}, // checked before anything is reset
					{"reset-ip-username", "10.0.0.1", "\u200b"},
					{"reset-ip", " "},
					{"reset", " "},
				} {
					r := axes(t, env, args...)
					assert.Equal(t, exitUsage, r.code, "axes %q: exit status %d, want %d; stderr: %s", args, r.code, exitUsage, r.stderr)
					assert.Empty(t, r.stdout, "axes %q", args)
					assert.Regexp(t, `empty username|is empty once spaces, control and format characters are removed|is not an IP address`, r.stderr, "axes %q", args)
					assert.Equal(t, before, ok(t, env, "list"), "axes %q must reset nothing", args)
				}
			})

			t.Run("resets", func(t *testing.T) {
				assert.Equal(t, "1 attempts removed.\n", ok(t, env, "reset-user", "BOB"))
				assert.Equal(t, "No attempts found.\n", ok(t, env, "reset-username", "bob", "nobody"))
				assert.Equal(t, "1 attempts removed.\n", ok(t, env, "reset-ip-username", "10.0.0.1", "Alice"))
				assert.Equal(t, "1 attempts removed.\n", ok(t, env, "reset", "10.9.9.9"))
				assert.Equal(t, "No attempts found.\n", ok(t, env, "reset-ip", "10.9.9.9", "2001:db8::1"))
				assert.Equal(t, "No attempts found.\n", ok(t, env, "list"))

				ctx := context.Background()
				e, closer := engineAt(t, storeURL, time.Now)
				for _, ip := range []string{"10.0.1.1", "10.0.1.2", "10.0.1.3"} {
					for range 3 {
						e.ReportFailure(ctx, login(ip, "dave", "curl/8"))
					}
				}
				closer()
				assert.Contains(t, ok(t, env, "list", "--locked"), "10.0.1.3")
				assert.Equal(t, "2 attempts removed.\n", ok(t, env, "reset-ip", "10.0.1.1", "10.0.1.2"))
				assert.Equal(t, "1 attempts removed.\n", ok(t, env, "reset"))
				assert.Equal(t, "No attempts found.\n", ok(t, env, "reset"))
				assert.Equal(t, "No attempts found.\n", ok(t, env, "list", "--locked"))
			})
		})
	}
}

func TestErrors(t *testing.T) {
	sqlite := "sqlite:" + filepath.Join(t.TempDir(), "axes.db")
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want []string // in stderr
	}{
		{"no command", nil, nil, exitUsage, []string{"no command given"}},
		{"unknown command", nil, []string{"frobnicate"}, exitUsage, []string{`unknown command "frobnicate"`}},
		{"unknown flag", nil, []string{"list", "--frob"}, exitUsage, []string{"flag provided but not defined: -frob"}},
		{"no store", nil, []string{"list"}, exitUsage, []string{"no store given", "AXES_STORE"}},
		{"bad store scheme", nil, []string{"--store", "ftp://example.com/x", "list"}, exitError, []string{"bad store URL", "ftp"}},
		{"bad store URL", []string{"AXES_STORE=nonsense"}, []string{"reset"}, exitError, []string{"bad store URL", "nonsense"}},
		{"password not echoed", nil, []string{"--store", "ftp://user:hunter2@example.com/x", "list"}, exitError, []string{"bad store URL"}},
		{"sqlite in a missing directory", nil, []string{"--store", "sqlite:/nonexistent/dir/axes.db", "list"}, exitError, []string{"/nonexistent/dir/axes.db"}},
		{"unreachable redis", nil, []string{"--store", "redis://127.0.0.1:1/0", "--timeout", "5s", "reset"}, exitError, []string{"127.0.0.1:1"}},
		{"unreachable postgres", nil, []string{"--store", "postgres://axes:secret@127.0.0.1:1/axes?sslmode=disable", "--timeout", "5s", "list"}, exitError, []string{"127.0.0.1"}},
		{"bad IP", nil, []string{"--store", sqlite, "reset-ip", "10.0.0.999"}, exitUsage, []string{`"10.0.0.999" is not an IP address`}},
		{"reset with a username", nil, []string{"--store", sqlite, "reset", "alice"}, exitUsage, []string{`"alice" is not an IP address`, "reset-username alice"}},
		{"reset-ip without IP", nil, []string{"--store", sqlite, "reset-ip"}, exitUsage, []string{"at least one IP address"}},
		{"reset-username without name", nil, []string{"--store", sqlite, "reset-username"}, exitUsage, []string{"at least one username"}},
		{"reset-ip-username with one argument", nil, []string{"--store", sqlite, "reset-ip-username", "10.0.0.1"}, exitUsage, []string{"an IP address and a username"}},
		{"bad age", nil, []string{"--store", sqlite, "reset-logs", "--age", "soon"}, exitUsage, []string{`--age "soon"`}},
		{"negative age", nil, []string{"--store", sqlite, "reset-failure-logs", "--age", "-3d"}, exitUsage, []string{"--age"}},
		{"positional age", nil, []string{"--store", sqlite, "reset-logs", "30"}, exitUsage, []string{"--age 30"}},
		{"list argument", nil, []string{"--store", sqlite, "list", "alice"}, exitUsage, []string{`unexpected argument "alice"`}},
		{"bad setting", []string{"AXES_FAILURE_LIMIT=many"}, []string{"--store", sqlite, "list"}, exitError, []string{"AXES_FAILURE_LIMIT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := axes(t, tc.env, tc.args...)
			assert.Equal(t, tc.code, r.code, "exit status: got %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w)
			}
			assert.NotContains(t, r.stderr, "hunter2")
			assert.NotContains(t, r.stderr, "secret")
			assert.NotContains(t, r.stderr, "panic")
			assert.Empty(t, r.stdout)
		})
	}
}

// TestNoSecretInOutput runs list on every form of leakcheck, given with
// --store and in AXES_STORE, on an address where nothing listens and on the
// test servers: neither stdout nor stderr shows a secret.
func TestNoSecretInOutput(t *testing.T) {
	for where, addr := range leakcheck.Addresses(t) {
		for _, f := range leakcheck.Forms(addr[0], addr[1]) {
			t.Run(where+"/"+f.Name, func(t *testing.T) {
				t.Parallel()
				for how, r := range map[string]result{
					"--store":    axes(t, nil, "--store", f.URL, "--timeout", "2s", "list"),
					"AXES_STORE": axes(t, []string{"AXES_STORE=" + f.URL}, "list", "--timeout", "2s"),
				} {
					if where == "unreachable" {
						assert.Equal(t, exitError, r.code, "%s: exit status; stderr: %s", how, r.stderr)
					}
					leakcheck.NoSecret(t, f, how+": stdout", r.stdout)
					leakcheck.NoSecret(t, f, how+": stderr", r.stderr)
				}
			})
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		out := ok(t, nil, args...)
		assert.Contains(t, out, "Usage:")
		for _, cmd := range []string{"list", "reset-ip", "reset-username", "reset-ip-username", "reset-logs", "reset-failure-logs", "version"} {
			assert.Contains(t, out, cmd)
		}
	}
	assert.Regexp(t, `^axes \S+ go1\.\S+ \w+/\w+\n$`, ok(t, nil, "version"))
	assert.Regexp(t, `^axes `, ok(t, nil, "--version"))
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"30", 30 * 24 * time.Hour, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"1.5d", 36 * time.Hour, false},
		{"12h", 12 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0", 0, false},
		{"", 0, true},
		{"d", 0, true},
		{"-1", 0, true},
		{"-1h", 0, true},
		{"soon", 0, true},
	}
	for _, tc := range tests {
		got, err := parseAge(tc.in)
		if tc.bad {
			assert.Error(t, err, "parseAge(%q)", tc.in)
			continue
		}
		require.NoError(t, err, "parseAge(%q)", tc.in)
		assert.Equal(t, tc.want, got, "parseAge(%q)", tc.in)
	}
}

func TestPruneProgress(t *testing.T) {
	ctx := context.Background()
	ms := core.NewMemoryStore(core.MemoryOptions{})
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	const rows = progressMin + 2000
	for i := range rows {
		at := now.Add(-time.Duration(i) * time.Minute) // about 8.5 days
		require.NoError(t, ms.RecordLogin(ctx, core.AccessLog{Username: "u", IP: "10.0.0.1", LoginTime: at}))
	}
	cutoff := now.Add(-24 * time.Hour)
	want := rows - 24*60 - 1 // strictly older than the cutoff

	var quiet bytes.Buffer
	c := &cli{stdout: &quiet}
	n, err := c.prune(ctx, ms, accessLogs, cutoff, now)
	require.NoError(t, err)
	assert.Equal(t, want, n)
	assert.Empty(t, quiet.String(), "piped output stays quiet")

	for i := range rows {
		require.NoError(t, ms.RecordLogin(ctx, core.AccessLog{Username: "u", IP: "10.0.0.1", LoginTime: now.Add(-time.Duration(i) * time.Minute)}))
	}
	var tty bytes.Buffer
	c = &cli{stdout: &tty, progress: true}
	n, err = c.prune(ctx, ms, accessLogs, cutoff, now)
	require.NoError(t, err)
	assert.Equal(t, want, n)
	assert.Contains(t, tty.String(), "\rremoving access logs:  50% (")
	assert.True(t, strings.HasSuffix(tty.String(), "\r\x1b[K"), "the progress line is cleared")

	n, err = c.prune(ctx, ms, accessLogs, time.Time{}, now)
	require.NoError(t, err)
	assert.Equal(t, 24*60+1+24*60+1, n, "the zero time removes the rest")
}

func TestPrintable(t *testing.T) {
	assert.Equal(t, "-", printable("", 10))
	assert.Equal(t, `a\x1b[2Jb`, printable("a\x1b[2Jb", 20))
	assert.Equal(t, `evil\u202etxt.exe`, printable("evil\u202etxt.exe", 40))
	assert.Equal(t, "abc…", printable("abcdef", 3))
	assert.Equal(t, "a\uFFFDb", printable("a\xffb", 10))
}
