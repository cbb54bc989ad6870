package storetest

import (
	"context"
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
