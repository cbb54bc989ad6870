package storetest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// testLoginStore checks core.LoginStore, for stores that have it:
// ReleaseAndRecordLogin is Release followed by RecordLogin.
func testLoginStore(t *testing.T, newStore func(*testing.T) core.Store) {
	s := newStore(t)
	ls, ok := s.(core.LoginStore)
	if !ok {
		t.Skip("not a core.LoginStore")
	}
	rs, ok := s.(core.RecordStore)
	require.True(t, ok, "a core.LoginStore must be a core.RecordStore")
	ctx := context.Background()
	p := core.Policy{Limit: 3, CoolOff: time.Minute}
	hit(t, s, at(0), p, keyIP1, keyAlice)
	hit(t, s, at(time.Second), p, keyIP1, keyAlice)
	hit(t, s, at(2*time.Second), p, keyIP1)
	login := func(now time.Time, user string, keys ...core.Key) core.AccessLog {
		t.Helper()
		l := core.AccessLog{Username: user, IP: "10.0.0.1", UserAgent: "ua/1", Path: "/login", LoginTime: now}
		require.NoError(t, ls.ReleaseAndRecordLogin(ctx, keys, now, p, l), "ReleaseAndRecordLogin")
		return l
	}

	first := login(at(3*time.Second), "alice", keyIP1, keyAlice)
	got := peek(t, s, at(3*time.Second), p, keyIP1, keyAlice)
	assert.Equal(t, []int{2, 1}, failures(got), "after one release: got %v, want [2 1]", failures(got))
	sameTime(t, at(2*time.Second), got[0].Last, "released key: Last (unchanged)")
	sameTime(t, at(time.Second), got[1].Last, "released key: Last (unchanged)")
	logs, n := accessLogs(t, rs, core.ListQuery{})
	require.Equal(t, 1, n, "access logs after one login")
	assert.Equal(t, first.Username, logs[0].Username)
	assert.Equal(t, first.IP, logs[0].IP)
	assert.Equal(t, first.UserAgent, logs[0].UserAgent)
	assert.Equal(t, first.Path, logs[0].Path)
	sameTime(t, first.LoginTime, logs[0].LoginTime, "LoginTime")
	assert.True(t, logs[0].LogoutTime.IsZero(), "a new access log is open")

	// To zero, then never below it; no keys still logs.
	login(at(4*time.Second), "alice", keyAlice)
	login(at(5*time.Second), "alice", keyAlice)
	login(at(6*time.Second), "bob")
	got = peek(t, s, at(6*time.Second), p, keyIP1, keyAlice)
	assert.Equal(t, []int{2, 0}, failures(got), "after releases past zero: got %v, want [2 0]", failures(got))
	_, n = accessLogs(t, rs, core.ListQuery{})
	assert.Equal(t, 4, n, "one access log per call")

	// An expired counter stays gone.
	late := at(2*time.Second + 2*time.Minute)
	login(late, "alice", keyIP1)
	assert.Equal(t, []int{0}, failures(peek(t, s, late, p, keyIP1)), "release of an expired counter")

	// A cancelled context changes nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	hit(t, s, late, p, keyBob)
	assert.Error(t, ls.ReleaseAndRecordLogin(cctx, []core.Key{keyBob}, late, p, core.AccessLog{Username: "bob", LoginTime: late}))
	assert.Equal(t, []int{1}, failures(peek(t, s, late, p, keyBob)), "cancelled: the counter is unchanged")
	_, n = accessLogs(t, rs, core.ListQuery{})
	assert.Equal(t, 5, n, "cancelled: no access log written")
}

// SucceedThroughEngine runs a successful login through a core.Engine on s
// (Begin, then Succeed, on three keys: ip_address, username and both),
// after one failure and a warm-up success, and checks its effects: the
// advance count is taken back and the access log row is written. take
// returns what the caller's hook counted since its last call (statements,
// commands); SucceedThroughEngine returns what the measured login made,
// for the caller to check against its store's round trips.
func SucceedThroughEngine(t *testing.T, s core.Store, take func() []string) []string {
	t.Helper()
	rs, ok := s.(core.RecordStore)
	require.True(t, ok, "the store keeps records")
	ctx := context.Background()
	now := t0.Add(123456 * time.Microsecond)
	cfg := core.DefaultConfig()
	cfg.Store = s
	cfg.FailureLimit = 5
	cfg.CoolOff = time.Hour
	cfg.LockoutParameters = []core.Combination{core.ParamIPAddress, core.ParamUsername, core.ParamIPAddress | core.ParamUsername}
	cfg.Clock = func() time.Time { return now }
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := core.New(cfg)
	require.NoError(t, err, "core.New")
	req := func() *core.Request {
		return &core.Request{RemoteAddr: "192.0.2.7:4000", Method: "POST", Path: "/login", Username: "alice"}
	}
	keys := []core.Key{
		core.NewKey(core.ParamIPAddress, "192.0.2.7", "", ""),
		core.NewKey(core.ParamUsername, "", "alice", ""),
		core.NewKey(core.ParamIPAddress|core.ParamUsername, "192.0.2.7", "alice", ""),
	}
	p := core.Policy{Limit: 5, CoolOff: time.Hour}
	counts := func() []int { return failures(peek(t, s, now, p, keys...)) }

	// One failure first, so that the release has a count to leave behind;
	// and a warm-up success (statements prepared, scripts loaded).
	a := e.Begin(ctx, req())
	require.Equal(t, core.Allowed, a.Decision().Outcome, "first Begin")
	a.Fail(ctx)
	a.Done(ctx)
	a = e.Begin(ctx, req())
	a.Succeed(ctx)
	a.Done(ctx)
	require.Equal(t, []int{1, 1, 1}, counts(), "counters after a failure and a success")

	take()
	a = e.Begin(ctx, req())
	require.Equal(t, core.Allowed, a.Decision().Outcome, "Begin")
	require.Equal(t, 1, a.Decision().Failures, "failures seen by Begin")
	a.Succeed(ctx)
	a.Done(ctx)
	trips := take()

	assert.Equal(t, []int{1, 1, 1}, counts(), "counters after the success: the advance count is taken back")
	logs, total, err := rs.AccessLogs(ctx, core.ListQuery{Filter: core.Filter{Username: "alice"}})
	require.NoError(t, err)
	require.Equal(t, 2, total, "access logs of alice: got %d, want 2", total)
	l := logs[0] // newest first
	assert.Equal(t, "192.0.2.7", l.IP)
	assert.Equal(t, "/login", l.Path)
	sameTime(t, now, l.LoginTime, "LoginTime")
	assert.True(t, l.LogoutTime.IsZero(), "LogoutTime: got %v, want none", l.LogoutTime)
	assert.Greater(t, l.ID, logs[1].ID, "IDs grow")
	return trips
}
