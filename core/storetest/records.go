package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// testRecords runs the record subtests on stores that implement
// core.RecordStore and skips them on others.
func testRecords(t *testing.T, newStore func(*testing.T) core.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, core.RecordStore)
	}{
		{"FailureUpserts", testFailureUpserts},
		{"FailureLogsPerUser", testFailureLogsPerUser},
		{"LoginLogout", testLoginLogout},
		{"ListAttempts", testListAttempts},
		{"ListAccessLogs", testListAccessLogs},
		{"ListFailureLogs", testListFailureLogs},
		{"DeleteLogs", testDeleteLogs},
		{"Copies", testCopies},
		{"CancelledContext", testRecordsCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			rs, ok := s.(core.RecordStore)
			if !ok {
				t.Skipf("%T does not implement core.RecordStore", s)
			}
			tt.fn(t, rs)
		})
	}
}

func at(d time.Duration) time.Time { return t0.Add(d) }

func fail(t *testing.T, rs core.RecordStore, rec core.AttemptRecord, failureLog, lockedOut bool, perUser int) {
	t.Helper()
	require.NoError(t, rs.RecordFailure(context.Background(), rec, failureLog, lockedOut, perUser), "RecordFailure(%s, %s)", rec.Username, rec.IP)
}

func attempts(t *testing.T, rs core.RecordStore, q core.ListQuery) ([]core.AttemptRecord, int) {
	t.Helper()
	rows, total, err := rs.Attempts(context.Background(), q)
	require.NoError(t, err, "Attempts(%+v)", q)
	return rows, total
}

func accessLogs(t *testing.T, rs core.RecordStore, q core.ListQuery) ([]core.AccessLog, int) {
	t.Helper()
	rows, total, err := rs.AccessLogs(context.Background(), q)
	require.NoError(t, err, "AccessLogs(%+v)", q)
	return rows, total
}

func failureLogs(t *testing.T, rs core.RecordStore, q core.ListQuery) ([]core.FailureLog, int) {
	t.Helper()
	rows, total, err := rs.FailureLogs(context.Background(), q)
	require.NoError(t, err, "FailureLogs(%+v)", q)
	return rows, total
}

func testFailureUpserts(t *testing.T, rs core.RecordStore) {
	first := core.AttemptRecord{
		Username: "alice", IP: "10.0.0.1", UserAgent: "curl/8",
		Accept: "text/html", Path: "/login", GetData: "next=/a", PostData: "username=alice\npassword=********",
		Failures: 1, FirstAttempt: at(0), LastAttempt: at(0),
	}
	fail(t, rs, first, false, false, 0)
	second := first
	second.Accept, second.Path, second.GetData, second.PostData = "application/json", "/api/login", "next=/b", "username=alice"
	second.FirstAttempt, second.LastAttempt = at(time.Second), at(time.Second)
	fail(t, rs, second, false, false, 0)
	other := first
	other.UserAgent = "firefox"
	other.FirstAttempt, other.LastAttempt = at(2*time.Second), at(2*time.Second)
	fail(t, rs, other, false, false, 0)

	rows, total := attempts(t, rs, core.ListQuery{Sort: "last_attempt", Asc: true})
	require.Equal(t, 2, total, "records of two user agents: got total %d, want 2", total)
	require.Len(t, rows, 2, "records of two user agents: got %d rows, want 2", len(rows))
	got := rows[0]
	assert.Equal(t, attemptID{"alice", "10.0.0.1", "curl/8"}, attemptID{got.Username, got.IP, got.UserAgent}, "upserted record: got the left, want the right")
	assert.Equal(t, 2, got.Failures, "upserted record: got %d failures, want 2", got.Failures)
	sameTime(t, at(0), got.FirstAttempt, "upserted record: FirstAttempt (kept)")
	sameTime(t, at(time.Second), got.LastAttempt, "upserted record: LastAttempt (replaced)")
	assert.Equal(t, "application/json", got.Accept, "upserted record: Accept (replaced)")
	assert.Equal(t, "/api/login", got.Path, "upserted record: Path (replaced)")
	assert.Equal(t, "next=/b", got.GetData, "upserted record: GetData (replaced)")
	assert.Equal(t, "username=alice", got.PostData, "upserted record: PostData (replaced, not appended)")
	assert.Equal(t, 1, rows[1].Failures, "record of another user agent: got %d failures, want 1", rows[1].Failures)
	assert.Equal(t, "firefox", rows[1].UserAgent, "record of another user agent: got %q, want firefox", rows[1].UserAgent)
}

func testFailureLogsPerUser(t *testing.T, rs core.RecordStore) {
	for i := range 5 {
		rec := core.AttemptRecord{Username: "alice", IP: "10.0.0.1", Path: fmt.Sprintf("/login/%d", i), LastAttempt: at(time.Duration(i) * time.Second)}
		fail(t, rs, rec, true, i >= 3, 2)
	}
	fail(t, rs, core.AttemptRecord{Username: "bob", IP: "10.0.0.2", LastAttempt: at(10 * time.Second)}, true, false, 2)
	for i := range 4 {
		fail(t, rs, core.AttemptRecord{Username: "carol", IP: "10.0.0.3", LastAttempt: at(time.Duration(20+i) * time.Second)}, true, false, 0)
	}
	// Without failureLog, no row.
	fail(t, rs, core.AttemptRecord{Username: "dave", IP: "10.0.0.4", LastAttempt: at(30 * time.Second)}, false, false, 2)

	rows, total := failureLogs(t, rs, core.ListQuery{Filter: core.Filter{Username: "alice"}})
	require.Equal(t, 2, total, "alice's failure logs with perUser 2 after 5 failures: got total %d, want 2", total)
	require.Len(t, rows, 2, "alice's failure logs: got %d rows, want 2", len(rows))
	for i, want := range []int{4, 3} {
		got := rows[i]
		sameTime(t, at(time.Duration(want)*time.Second), got.Time, fmt.Sprintf("alice's failure log %d: Time", i))
		assert.Equal(t, fmt.Sprintf("/login/%d", want), got.Path, "alice's failure log %d: Path", i)
		assert.True(t, got.LockedOut, "alice's failure log %d: got LockedOut false, want true", i)
		assert.Equal(t, "10.0.0.1", got.IP, "alice's failure log %d: IP", i)
	}
	assert.Greater(t, rows[0].ID, rows[1].ID, "failure log IDs: got %d for the newer row and %d for the older, want increasing", rows[0].ID, rows[1].ID)
	_, total = failureLogs(t, rs, core.ListQuery{Filter: core.Filter{Username: "bob"}})
	assert.Equal(t, 1, total, "bob's failure logs: got %d, want 1", total)
	_, total = failureLogs(t, rs, core.ListQuery{Filter: core.Filter{Username: "carol"}})
	assert.Equal(t, 4, total, "carol's failure logs with perUser 0 (no cap): got %d, want 4", total)
	_, total = failureLogs(t, rs, core.ListQuery{Filter: core.Filter{Username: "dave"}})
	assert.Equal(t, 0, total, "dave's failure logs without failureLog: got %d, want 0", total)
	recs, _ := attempts(t, rs, core.ListQuery{Filter: core.Filter{Username: "alice"}})
	require.Len(t, recs, 1, "alice's attempt records: got %d, want 1", len(recs))
	assert.Equal(t, 5, recs[0].Failures, "alice's attempt record: got %d failures, want 5 (the log cap does not touch it)", recs[0].Failures)
}

func testLoginLogout(t *testing.T, rs core.RecordStore) {
	ctx := context.Background()
	login := func(user, ip string, d time.Duration) {
		t.Helper()
		require.NoError(t, rs.RecordLogin(ctx, core.AccessLog{Username: user, IP: ip, UserAgent: "curl/8", Path: "/login", LoginTime: at(d)}), "RecordLogin")
	}
	logout := func(user, ip string, d time.Duration) {
		t.Helper()
		require.NoError(t, rs.RecordLogout(ctx, user, ip, at(d)), "RecordLogout(%q, %q)", user, ip)
	}
	// logoutOf returns the logout time of user's log that logged in at d.
	logoutOf := func(user string, d time.Duration) time.Time {
		t.Helper()
		rows, _ := accessLogs(t, rs, core.ListQuery{Filter: core.Filter{Username: user}})
		for _, r := range rows {
			if r.LoginTime.Equal(at(d)) {
				return r.LogoutTime
			}
		}
		t.Fatalf("no access log of %s logged in at %v", user, at(d))
		return time.Time{}
	}
	login("alice", "10.0.0.1", 0)
	login("alice", "10.0.0.2", time.Second)
	login("bob", "10.0.0.1", 2*time.Second)

	rows, total := accessLogs(t, rs, core.ListQuery{})
	require.Equal(t, 3, total, "access logs: got %d, want 3", total)
	for _, r := range rows {
		sameTime(t, time.Time{}, r.LogoutTime, "LogoutTime before any logout")
	}

	logout("alice", "10.0.0.1", 5*time.Second)
	sameTime(t, at(5*time.Second), logoutOf("alice", 0), "alice@10.0.0.1 logged out with its IP")
	sameTime(t, time.Time{}, logoutOf("alice", time.Second), "alice@10.0.0.2 still logged in")

	logout("alice", "", 6*time.Second)
	sameTime(t, at(6*time.Second), logoutOf("alice", time.Second), "alice's newest open log logged out without an IP")
	sameTime(t, at(5*time.Second), logoutOf("alice", 0), "alice@10.0.0.1 keeps its logout time")

	logout("carol", "", 7*time.Second) // no open log: not an error
	logout("alice", "", 8*time.Second) // every log of alice closed: nothing changes
	sameTime(t, at(6*time.Second), logoutOf("alice", time.Second), "a closed log keeps its logout time")
	sameTime(t, time.Time{}, logoutOf("bob", 2*time.Second), "bob still logged in")

	// Of two open logs, the newest is closed.
	login("bob", "10.0.0.1", 10*time.Second)
	logout("bob", "10.0.0.1", 11*time.Second)
	sameTime(t, at(11*time.Second), logoutOf("bob", 10*time.Second), "bob's newest log")
	sameTime(t, time.Time{}, logoutOf("bob", 2*time.Second), "bob's older log")
}

// seedAttempts records dave (4 failures, last at 300ms), alice (3, last at
// 2s), carol (2, last at 4s) and bob (1, at 5s).
func seedAttempts(t *testing.T, rs core.RecordStore) {
	t.Helper()
	type f struct {
		user, ip, ua, path string
		times              []time.Duration
	}
	for _, r := range []f{
		{"dave", "192.0.2.7", "python-requests/2", "/login", []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}},
		{"alice", "10.0.0.1", "Mozilla/5.0", "/login", []time.Duration{time.Second, 1100 * time.Millisecond, 2 * time.Second}},
		{"carol", "10.0.0.1", "Mozilla/5.0", "/admin/login", []time.Duration{3 * time.Second, 4 * time.Second}},
		{"bob", "10.0.0.2", "curl/8.0", "/api/login", []time.Duration{5 * time.Second}},
	} {
		for _, d := range r.times {
			fail(t, rs, core.AttemptRecord{Username: r.user, IP: r.ip, UserAgent: r.ua, Path: r.path, Failures: 1, FirstAttempt: at(d), LastAttempt: at(d)}, true, false, 0)
		}
	}
}

func testListAttempts(t *testing.T, rs core.RecordStore) {
	seedAttempts(t, rs)
	users := func(rows []core.AttemptRecord) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = r.Username
		}
		return out
	}
	tests := []struct {
		name  string
		q     core.ListQuery
		want  []string
		total int
	}{
		{"default: last attempt, newest first", core.ListQuery{}, []string{"bob", "carol", "alice", "dave"}, 4},
		{"last attempt ascending", core.ListQuery{Asc: true}, []string{"dave", "alice", "carol", "bob"}, 4},
		{"unknown sort falls back", core.ListQuery{Sort: "password"}, []string{"bob", "carol", "alice", "dave"}, 4},
		{"failures", core.ListQuery{Sort: "failures"}, []string{"dave", "alice", "carol", "bob"}, 4},
		{"failures ascending", core.ListQuery{Sort: "failures", Asc: true}, []string{"bob", "carol", "alice", "dave"}, 4},
		{"username ascending", core.ListQuery{Sort: "username", Asc: true}, []string{"alice", "bob", "carol", "dave"}, 4},
		{"username", core.ListQuery{Sort: "username"}, []string{"dave", "carol", "bob", "alice"}, 4},
		{"first attempt ascending", core.ListQuery{Sort: "first_attempt", Asc: true}, []string{"dave", "alice", "carol", "bob"}, 4},
		{"path ascending", core.ListQuery{Sort: "path", Asc: true, Filter: core.Filter{IP: "10.0.0.1"}}, []string{"carol", "alice"}, 2},
		{"user agent ascending", core.ListQuery{Sort: "user_agent", Asc: true, Filter: core.Filter{Username: "bob", IP: "192.0.2.7", Either: true}}, []string{"bob", "dave"}, 2},
		{"filter ip", core.ListQuery{Filter: core.Filter{IP: "10.0.0.1"}}, []string{"carol", "alice"}, 2},
		{"filter username", core.ListQuery{Filter: core.Filter{Username: "bob"}}, []string{"bob"}, 1},
		{"filter ip and username", core.ListQuery{Filter: core.Filter{IP: "10.0.0.1", Username: "bob"}}, []string{}, 0},
		{"search user agent, any case", core.ListQuery{Search: "MOZILLA"}, []string{"carol", "alice"}, 2},
		{"search path", core.ListQuery{Search: "api/"}, []string{"bob"}, 1},
		{"search ip", core.ListQuery{Search: "192.0.2"}, []string{"dave"}, 1},
		{"search username", core.ListQuery{Search: "aro"}, []string{"carol"}, 1},
		{"search and filter", core.ListQuery{Search: "login", Filter: core.Filter{IP: "10.0.0.1"}}, []string{"carol", "alice"}, 2},
		{"page", core.ListQuery{Offset: 1, Limit: 2}, []string{"carol", "alice"}, 4},
		{"last page", core.ListQuery{Offset: 3, Limit: 2}, []string{"dave"}, 4},
		{"past the end", core.ListQuery{Offset: 10, Limit: 2}, []string{}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, total := attempts(t, rs, tt.q)
			assert.Equal(t, tt.total, total, "total: got %d, want %d", total, tt.total)
			assert.Equal(t, tt.want, users(rows), "rows: got %v, want %v", users(rows), tt.want)
		})
	}
	t.Run("ip ascending", func(t *testing.T) {
		rows, _ := attempts(t, rs, core.ListQuery{Sort: "ip", Asc: true})
		var got []string
		for _, r := range rows {
			got = append(got, r.IP)
		}
		want := []string{"10.0.0.1", "10.0.0.1", "10.0.0.2", "192.0.2.7"}
		assert.Equal(t, want, got, "IPs: got %v, want %v", got, want)
	})
	t.Run("fields", func(t *testing.T) {
		rows, _ := attempts(t, rs, core.ListQuery{Filter: core.Filter{Username: "alice"}})
		require.Len(t, rows, 1, "alice's records: got %d, want 1", len(rows))
		r := rows[0]
		assert.Equal(t, 3, r.Failures, "alice: failures")
		sameTime(t, at(time.Second), r.FirstAttempt, "alice: FirstAttempt")
		sameTime(t, at(2*time.Second), r.LastAttempt, "alice: LastAttempt")
		assert.Equal(t, "Mozilla/5.0", r.UserAgent, "alice: UserAgent")
		assert.Equal(t, "/login", r.Path, "alice: Path")
	})
}

func testListAccessLogs(t *testing.T, rs core.RecordStore) {
	ctx := context.Background()
	for i, l := range []core.AccessLog{
		{Username: "alice", IP: "10.0.0.1", UserAgent: "Mozilla/5.0", Path: "/login"},
		{Username: "bob", IP: "10.0.0.2", UserAgent: "Mozilla/5.0", Path: "/login"},
		{Username: "alice", IP: "10.0.0.2", UserAgent: "curl/8.0", Path: "/api/login"},
	} {
		l.LoginTime = at(time.Duration(i) * time.Second)
		require.NoError(t, rs.RecordLogin(ctx, l), "RecordLogin")
	}
	require.NoError(t, rs.RecordLogout(ctx, "bob", "", at(time.Minute)), "RecordLogout")
	type row struct {
		User string
		Sec  int
	}
	rowsOf := func(ls []core.AccessLog) []row {
		out := make([]row, len(ls))
		for i, l := range ls {
			out[i] = row{l.Username, int(l.LoginTime.Sub(t0) / time.Second)}
		}
		return out
	}
	tests := []struct {
		name  string
		q     core.ListQuery
		want  []row
		total int
	}{
		{"default: login time, newest first", core.ListQuery{}, []row{{"alice", 2}, {"bob", 1}, {"alice", 0}}, 3},
		{"login time ascending", core.ListQuery{Sort: "login_time", Asc: true}, []row{{"alice", 0}, {"bob", 1}, {"alice", 2}}, 3},
		{"logout time", core.ListQuery{Sort: "logout_time", Limit: 1}, []row{{"bob", 1}}, 3},
		{"username ascending", core.ListQuery{Sort: "username", Asc: true, Limit: 2, Offset: 2}, []row{{"bob", 1}}, 3},
		{"filter username", core.ListQuery{Filter: core.Filter{Username: "alice"}}, []row{{"alice", 2}, {"alice", 0}}, 2},
		{"filter ip", core.ListQuery{Filter: core.Filter{IP: "10.0.0.2"}}, []row{{"alice", 2}, {"bob", 1}}, 2},
		{"search", core.ListQuery{Search: "CURL"}, []row{{"alice", 2}}, 1},
		{"page", core.ListQuery{Offset: 1, Limit: 1}, []row{{"bob", 1}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, total := accessLogs(t, rs, tt.q)
			assert.Equal(t, tt.total, total, "total: got %d, want %d", total, tt.total)
			assert.Equal(t, tt.want, rowsOf(ls), "rows: got %v, want %v", rowsOf(ls), tt.want)
		})
	}
	t.Run("ids increase", func(t *testing.T) {
		ls, _ := accessLogs(t, rs, core.ListQuery{Sort: "login_time", Asc: true})
		for i := 1; i < len(ls); i++ {
			assert.Greater(t, ls[i].ID, ls[i-1].ID, "access log IDs: got %d after %d, want increasing", ls[i].ID, ls[i-1].ID)
		}
	})
}

func testListFailureLogs(t *testing.T, rs core.RecordStore) {
	seedAttempts(t, rs)
	type row struct {
		User string
		MS   int
	}
	rowsOf := func(ls []core.FailureLog) []row {
		out := make([]row, len(ls))
		for i, l := range ls {
			out[i] = row{l.Username, int(l.Time.Sub(t0) / time.Millisecond)}
		}
		return out
	}
	tests := []struct {
		name  string
		q     core.ListQuery
		want  []row
		total int
	}{
		{"default: time, newest first", core.ListQuery{Limit: 3}, []row{{"bob", 5000}, {"carol", 4000}, {"carol", 3000}}, 10},
		{"time ascending", core.ListQuery{Sort: "time", Asc: true, Limit: 2}, []row{{"dave", 0}, {"dave", 100}}, 10},
		{"filter ip", core.ListQuery{Filter: core.Filter{IP: "10.0.0.1"}, Offset: 1, Limit: 2}, []row{{"carol", 3000}, {"alice", 2000}}, 5},
		{"filter username", core.ListQuery{Filter: core.Filter{Username: "alice"}}, []row{{"alice", 2000}, {"alice", 1100}, {"alice", 1000}}, 3},
		{"search path", core.ListQuery{Search: "ADMIN"}, []row{{"carol", 4000}, {"carol", 3000}}, 2},
		{"search user agent", core.ListQuery{Search: "python", Asc: true, Offset: 3}, []row{{"dave", 300}}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, total := failureLogs(t, rs, tt.q)
			assert.Equal(t, tt.total, total, "total: got %d, want %d", total, tt.total)
			assert.Equal(t, tt.want, rowsOf(ls), "rows: got %v, want %v", rowsOf(ls), tt.want)
		})
	}
	t.Run("username ascending", func(t *testing.T) {
		ls, total := failureLogs(t, rs, core.ListQuery{Sort: "username", Asc: true, Offset: 2, Limit: 2})
		assert.Equal(t, 10, total, "total: got %d, want 10", total)
		var got []string
		for _, l := range ls {
			got = append(got, l.Username)
		}
		assert.Equal(t, []string{"alice", "bob"}, got, "usernames: got %v, want [alice bob]", got)
	})
	t.Run("ids increase", func(t *testing.T) {
		ls, _ := failureLogs(t, rs, core.ListQuery{Sort: "time", Asc: true})
		for i := 1; i < len(ls); i++ {
			assert.Greater(t, ls[i].ID, ls[i-1].ID, "failure log IDs: got %d after %d, want increasing", ls[i].ID, ls[i-1].ID)
		}
	})
}

func testDeleteLogs(t *testing.T, rs core.RecordStore) {
	ctx := context.Background()
	for i := range 3 {
		d := time.Duration(i) * time.Minute
		require.NoError(t, rs.RecordLogin(ctx, core.AccessLog{Username: "alice", IP: "10.0.0.1", LoginTime: at(d)}), "RecordLogin")
		fail(t, rs, core.AttemptRecord{Username: "bob", IP: "10.0.0.2", LastAttempt: at(d)}, true, false, 0)
	}

	n, err := rs.DeleteAccessLogs(ctx, at(time.Minute))
	require.NoError(t, err, "DeleteAccessLogs")
	assert.Equal(t, 1, n, "DeleteAccessLogs(before t0+1m): got %d removed, want 1", n)
	ls, total := accessLogs(t, rs, core.ListQuery{Sort: "login_time", Asc: true})
	assert.Equal(t, 2, total, "access logs left: got %d, want 2", total)
	if assert.Len(t, ls, 2, "access logs left") {
		sameTime(t, at(time.Minute), ls[0].LoginTime, "oldest access log left")
	}

	n, err = rs.DeleteFailureLogs(ctx, at(90*time.Second))
	require.NoError(t, err, "DeleteFailureLogs")
	assert.Equal(t, 2, n, "DeleteFailureLogs(before t0+1m30s): got %d removed, want 2", n)
	fs, total := failureLogs(t, rs, core.ListQuery{})
	assert.Equal(t, 1, total, "failure logs left: got %d, want 1", total)
	if assert.Len(t, fs, 1, "failure logs left") {
		sameTime(t, at(2*time.Minute), fs[0].Time, "failure log left")
	}

	n, err = rs.DeleteAccessLogs(ctx, time.Time{})
	require.NoError(t, err, "DeleteAccessLogs(all)")
	assert.Equal(t, 2, n, "DeleteAccessLogs(zero time): got %d removed, want 2", n)
	n, err = rs.DeleteFailureLogs(ctx, time.Time{})
	require.NoError(t, err, "DeleteFailureLogs(all)")
	assert.Equal(t, 1, n, "DeleteFailureLogs(zero time): got %d removed, want 1", n)
	_, total = accessLogs(t, rs, core.ListQuery{})
	assert.Equal(t, 0, total, "access logs after deleting all: got %d, want 0", total)
	_, total = failureLogs(t, rs, core.ListQuery{})
	assert.Equal(t, 0, total, "failure logs after deleting all: got %d, want 0", total)
	_, total = attempts(t, rs, core.ListQuery{})
	assert.Equal(t, 1, total, "attempt records after deleting logs: got %d, want 1 (logs only)", total)

	// Failure logs recorded after a deletion are capped per user as before.
	for i := range 3 {
		fail(t, rs, core.AttemptRecord{Username: "bob", IP: "10.0.0.2", LastAttempt: at(time.Hour + time.Duration(i)*time.Second)}, true, false, 2)
	}
	_, total = failureLogs(t, rs, core.ListQuery{})
	assert.Equal(t, 2, total, "bob's failure logs after deletion, perUser 2: got %d, want 2", total)
}

func testCopies(t *testing.T, rs core.RecordStore) {
	ctx := context.Background()
	fail(t, rs, core.AttemptRecord{Username: "alice", IP: "10.0.0.1", Path: "/login", LastAttempt: at(0)}, true, false, 0)
	require.NoError(t, rs.RecordLogin(ctx, core.AccessLog{Username: "alice", IP: "10.0.0.1", LoginTime: at(0)}), "RecordLogin")

	as, _ := attempts(t, rs, core.ListQuery{})
	require.Len(t, as, 1, "attempts")
	as[0].Username, as[0].Failures, as[0].Path = "mallory", 99, "/x"
	as, _ = attempts(t, rs, core.ListQuery{})
	require.Len(t, as, 1, "attempts")
	assert.Equal(t, "alice", as[0].Username, "attempt record after changing a returned copy: got %q, want alice", as[0].Username)
	assert.Equal(t, 1, as[0].Failures, "attempt record after changing a returned copy: got %d failures, want 1", as[0].Failures)
	assert.Equal(t, "/login", as[0].Path, "attempt record after changing a returned copy: Path")

	ls, _ := accessLogs(t, rs, core.ListQuery{})
	require.Len(t, ls, 1, "access logs")
	ls[0].Username, ls[0].LogoutTime = "mallory", at(time.Hour)
	ls, _ = accessLogs(t, rs, core.ListQuery{})
	require.Len(t, ls, 1, "access logs")
	assert.Equal(t, "alice", ls[0].Username, "access log after changing a returned copy: Username")
	sameTime(t, time.Time{}, ls[0].LogoutTime, "access log after changing a returned copy: LogoutTime")

	fs, _ := failureLogs(t, rs, core.ListQuery{})
	require.Len(t, fs, 1, "failure logs")
	fs[0].Username, fs[0].LockedOut = "mallory", true
	fs, _ = failureLogs(t, rs, core.ListQuery{})
	require.Len(t, fs, 1, "failure logs")
	assert.Equal(t, "alice", fs[0].Username, "failure log after changing a returned copy: Username")
	assert.False(t, fs[0].LockedOut, "failure log after changing a returned copy: LockedOut")
}

func testRecordsCancelled(t *testing.T, rs core.RecordStore) {
	fail(t, rs, core.AttemptRecord{Username: "alice", IP: "10.0.0.1", LastAttempt: at(0)}, true, false, 0)
	require.NoError(t, rs.RecordLogin(context.Background(), core.AccessLog{Username: "alice", IP: "10.0.0.1", LoginTime: at(0)}), "RecordLogin")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := core.ListQuery{}
	calls := []struct {
		name string
		call func() error
	}{
		{"RecordFailure", func() error {
			return rs.RecordFailure(ctx, core.AttemptRecord{Username: "alice", IP: "10.0.0.1", LastAttempt: at(time.Second)}, true, false, 0)
		}},
		{"RecordLogin", func() error {
			return rs.RecordLogin(ctx, core.AccessLog{Username: "bob", IP: "10.0.0.2", LoginTime: at(time.Second)})
		}},
		{"RecordLogout", func() error { return rs.RecordLogout(ctx, "alice", "", at(time.Second)) }},
		{"Attempts", func() error { _, _, err := rs.Attempts(ctx, q); return err }},
		{"AccessLogs", func() error { _, _, err := rs.AccessLogs(ctx, q); return err }},
		{"FailureLogs", func() error { _, _, err := rs.FailureLogs(ctx, q); return err }},
		{"DeleteAccessLogs", func() error { _, err := rs.DeleteAccessLogs(ctx, time.Time{}); return err }},
		{"DeleteFailureLogs", func() error { _, err := rs.DeleteFailureLogs(ctx, time.Time{}); return err }},
	}
	for _, c := range calls {
		err := c.call()
		assert.True(t, errors.Is(err, context.Canceled), "%s with a cancelled context: got error %v, want context.Canceled", c.name, err)
	}
	as, _ := attempts(t, rs, q)
	if assert.Len(t, as, 1, "attempt records after cancelled calls") {
		assert.Equal(t, 1, as[0].Failures, "attempt record after cancelled calls: got %d failures, want 1", as[0].Failures)
	}
	ls, total := accessLogs(t, rs, q)
	assert.Equal(t, 1, total, "access logs after cancelled calls: got %d, want 1", total)
	if assert.Len(t, ls, 1, "access logs after cancelled calls") {
		sameTime(t, time.Time{}, ls[0].LogoutTime, "access log after a cancelled RecordLogout")
	}
	_, total = failureLogs(t, rs, q)
	assert.Equal(t, 1, total, "failure logs after cancelled calls: got %d, want 1", total)
}
