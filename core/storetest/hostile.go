package storetest

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// hostileUA is a User-Agent with bytes that databases refuse in text:
// invalid UTF-8 and a NUL.
const hostileUA = "Mozilla/5.0 \xff\xfe (\x00) \xc3vil é"

// hostileRequest is a login POST from ip whose every field carries such
// bytes: user agent, Accept, path, query string, username, form names and
// values.
func hostileRequest(ip string) *core.Request {
	return &core.Request{
		RemoteAddr: ip + ":4000", Method: http.MethodPost,
		Path: "/login\x00\xff", RawQuery: "next=%ff%00&q=\xff\x00&%c3=1",
		Username: "mallory\x00\xff",
		Header:   http.Header{"User-Agent": {hostileUA}, "Accept": {"text/html\xff\x00"}},
		Form: url.Values{
			"username": {"mallory\x00\xff"}, "note\xff": {"a\x00b\xc3"}, "password": {"hunter2\xff"},
		},
	}
}

// storable reports whether every store keeps s as text: valid UTF-8
// without NUL.
func storable(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

// testHostileBytes sends requests full of invalid UTF-8 and NUL bytes
// through an Engine on the store. Whatever the store accepts as text, the
// attacker's failures must be counted (up to the lockout), the records and
// logs kept, listed and found by a search for those bytes, and reset; two
// user agents that differ only in such bytes must stay two counters.
func testHostileBytes(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	ctx := context.Background()
	var (
		mu        sync.Mutex
		storeErrs []error
		tick      atomic.Int64
	)
	cfg := core.DefaultConfig()
	cfg.Store = s
	cfg.FailOpen = true // a store error would let the guesses through, uncounted
	cfg.LockoutParameters = []core.Combination{core.ParamIPAddress | core.ParamUserAgent, core.ParamUsername}
	cfg.CoolOff = time.Hour
	cfg.EnableAccessFailureLog = true
	cfg.Clock = func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Millisecond) }
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Events = core.EventHandlerFunc(func(_ context.Context, ev core.Event) {
		if ev.Kind == core.EventStoreError {
			mu.Lock()
			storeErrs = append(storeErrs, ev.Err)
			mu.Unlock()
		}
	})
	e, err := core.New(cfg)
	require.NoError(t, err, "core.New")
	noStoreErrors := func(when string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		require.Empty(t, storeErrs, "%s: the store refused the request's bytes", when)
	}

	// Counted up to the lockout, on both the IP+user-agent key and the
	// username key.
	var last core.Decision
	for i := 1; i <= 3; i++ {
		last = e.ReportFailure(ctx, hostileRequest("192.0.2.66"))
		require.NoError(t, last.Err, "failure %d", i)
		assert.Equal(t, i, last.Failures, "failure %d: counted failures", i)
	}
	noStoreErrors("three failures")
	assert.Equal(t, core.Locked, last.Outcome, "the third failure locks")
	for _, ip := range []string{"192.0.2.66", "192.0.2.67"} {
		d := e.Status(ctx, hostileRequest(ip))
		assert.Equal(t, core.Locked, d.Outcome, "status from %s after three failures (username key)", ip)
	}
	a := e.Begin(ctx, hostileRequest("192.0.2.66"))
	assert.Equal(t, core.Locked, a.Decision().Outcome, "a fourth attempt is refused")
	a.Done(ctx)
	noStoreErrors("refusal")

	// User agents that differ only in bytes a database refuses are
	// distinct counters (no username: only the IP+user-agent key counts).
	probe := func(ua string) *core.Request {
		return &core.Request{RemoteAddr: "192.0.2.80:4000", Method: http.MethodPost, Path: "/login",
			Header: http.Header{"User-Agent": {ua}}}
	}
	for range 3 {
		require.NoError(t, e.ReportFailure(ctx, probe("probe\xff")).Err)
	}
	assert.Equal(t, core.Locked, e.Status(ctx, probe("probe\xff")).Outcome, "probe\\xff after three failures")
	for _, ua := range []string{"probe", "probe\xfe", "probe\x00", "probe\xff\xff", "probe\uFFFD", "probe?",
		"probe\\xff", "probe\\\\xff", "probe%ff", "probe\uFFFDff", "probe\uFFFD\uFFFD", "probe\\x00", "probe\uFFFD00"} {
		assert.Equal(t, core.Allowed, e.Status(ctx, probe(ua)).Outcome, "user agent %q shares the counter of probe\\xff", ua)
	}
	noStoreErrors("probes")

	// A success and a logout from another address: the access log.
	e.ReportSuccess(ctx, hostileRequest("192.0.2.77"))
	e.ReportLogout(ctx, hostileRequest("192.0.2.77"))
	noStoreErrors("login and logout")

	rs, ok := e.Records()
	if !ok {
		return
	}
	rows, total, err := rs.Attempts(ctx, core.ListQuery{Filter: core.Filter{IP: "192.0.2.66"}})
	require.NoError(t, err, "Attempts by IP")
	require.Equal(t, 1, total, "the attacker's attempt record")
	rec := rows[0]
	assert.Equal(t, 3, rec.Failures)
	for name, v := range map[string]string{"Username": rec.Username, "IP": rec.IP, "UserAgent": rec.UserAgent,
		"Accept": rec.Accept, "Path": rec.Path, "GetData": rec.GetData, "PostData": rec.PostData} {
		assert.True(t, storable(v), "record %s %q: not valid UTF-8 without NUL", name, v)
	}
	assert.Contains(t, rec.UserAgent, "Mozilla/5.0 ", "the record keeps the user agent")
	assert.Contains(t, rec.UserAgent, " é")
	assert.Contains(t, rec.Username, "mallory")
	assert.Contains(t, rec.Path, "/login")
	assert.Contains(t, rec.GetData, "next=")
	assert.Contains(t, rec.PostData, "note")
	assert.Contains(t, rec.PostData, "password=********************")
	assert.NotContains(t, rec.PostData, "hunter2")

	// The same record by username (as the Engine spells it), and by
	// searches for the bytes themselves.
	_, total, err = rs.Attempts(ctx, core.ListQuery{Filter: core.Filter{Username: last.Username}})
	require.NoError(t, err, "Attempts by username")
	assert.Equal(t, 1, total, "Attempts by username %q", last.Username)
	for _, search := range []string{hostileUA, "\xff", "\x00", "\xff\xfe", "/login\x00", "MOZILLA/5.0 \xff", "é"} {
		rows, _, err := rs.Attempts(ctx, core.ListQuery{Search: search})
		require.NoError(t, err, "Attempts search %q", search)
		found := false
		for _, r := range rows {
			found = found || r.IP == "192.0.2.66"
		}
		assert.True(t, found, "search %q does not find the attacker's record", search)
	}
	for _, search := range []string{"%00", "%ff", "\xc3", "\\", "_", "\uFFFD", "\x00\x00\x00"} {
		_, _, err := rs.Attempts(ctx, core.ListQuery{Search: search})
		require.NoError(t, err, "Attempts search %q", search)
		_, _, err = rs.AccessLogs(ctx, core.ListQuery{Search: search})
		require.NoError(t, err, "AccessLogs search %q", search)
		_, _, err = rs.FailureLogs(ctx, core.ListQuery{Search: search})
		require.NoError(t, err, "FailureLogs search %q", search)
	}
	for _, user := range []string{"mallory\x00\xff", "\x00", "\xff"} {
		_, _, err := rs.Attempts(ctx, core.ListQuery{Filter: core.Filter{Username: user, IP: "192.0.2.66", Either: true}})
		require.NoError(t, err, "Attempts filtered by username %q", user)
	}

	logs, total, err := rs.FailureLogs(ctx, core.ListQuery{Filter: core.Filter{IP: "192.0.2.66"}})
	require.NoError(t, err, "FailureLogs by IP")
	assert.Equal(t, 3, total, "one failure log row per failure")
	for _, l := range logs {
		assert.True(t, storable(l.Username) && storable(l.UserAgent) && storable(l.Path), "failure log %+v", l)
	}
	_, total, err = rs.FailureLogs(ctx, core.ListQuery{Search: "\xff", Filter: core.Filter{IP: "192.0.2.66"}})
	require.NoError(t, err, "FailureLogs search")
	assert.Equal(t, 3, total, "FailureLogs search for \\xff")

	access, total, err := rs.AccessLogs(ctx, core.ListQuery{Filter: core.Filter{IP: "192.0.2.77"}})
	require.NoError(t, err, "AccessLogs by IP")
	require.Equal(t, 1, total, "the access log of the success")
	assert.True(t, storable(access[0].Username) && storable(access[0].UserAgent) && storable(access[0].Path), "access log %+v", access[0])
	assert.False(t, access[0].LogoutTime.IsZero(), "the logout of the same username closed the access log")
	_, total, err = rs.AccessLogs(ctx, core.ListQuery{Search: "\x00"})
	require.NoError(t, err, "AccessLogs search")
	assert.Equal(t, 1, total, "AccessLogs search for NUL")

	// A reset by the raw username unlocks the username key and, through
	// the attempt record, the IP+user-agent key.
	n, err := e.Reset(ctx, core.Filter{Username: "mallory\x00\xff"})
	require.NoError(t, err, "Reset by username")
	assert.Equal(t, 1, n, "Reset by username removes the attacker's record")
	assert.Equal(t, core.Allowed, e.Status(ctx, hostileRequest("192.0.2.66")).Outcome, "after the reset")
	_, total, err = rs.Attempts(ctx, core.ListQuery{Filter: core.Filter{IP: "192.0.2.66"}})
	require.NoError(t, err)
	assert.Equal(t, 0, total, "attempt records left after the reset")
	noStoreErrors("reset")
}
