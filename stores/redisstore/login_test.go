package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/core/storetest"
	"github.com/goaxes/axes/stores/redisstore"
)

// TestSucceedTwoRoundTrips: a successful login through an Engine (Begin,
// then Succeed) costs two round trips on Redis, one script each: the Hit,
// then ReleaseAndRecordLogin. Its effects are those of Release and
// RecordLogin: the advance count is taken back and the access log row is
// written.
func TestSucceedTwoRoundTrips(t *testing.T) {
	rdb := newClient(t)
	hook := &tripHook{}
	rdb.AddHook(hook)
	s := newStore(t, rdb, redisstore.Options{})
	trips := storetest.SucceedThroughEngine(t, s, hook.take)
	assert.Equal(t, []string{"evalsha", "evalsha"}, trips, "round trips of Begin+Succeed: got %v, want two EVALSHA", trips)
}

// TestReleaseAndRecordLogin: the combined step does what Release and then
// RecordLogin do, on counters at two, at one (deleted with their index
// entries), expired, missing and repeated.
func TestReleaseAndRecordLogin(t *testing.T) {
	rdb := newClient(t)
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0).UTC()
	ip := core.NewKey(core.ParamIPAddress, "192.0.2.1", "", "")
	user := core.NewKey(core.ParamUsername, "", "bob", "")
	pair := core.NewKey(core.ParamIPAddress|core.ParamUsername, "192.0.2.1", "bob", "")
	p := core.Policy{Limit: 10, CoolOff: time.Minute, Tiers: []core.Tier{{Failures: 2, CoolOff: time.Hour}}}
	for _, tt := range []struct {
		name    string
		hits    [][]core.Key // Hits at t0, in order
		release []core.Key
		at      time.Time
		want    []int // ip, user, pair after the step
		left    int   // counters indexed after the step
	}{
		{"two to one", [][]core.Key{{ip, user, pair}, {ip, user, pair}}, []core.Key{ip, user, pair}, t0, []int{1, 1, 1}, 3},
		{"one to none", [][]core.Key{{ip, user, pair}}, []core.Key{ip, user, pair}, t0, nil, 0},
		{"mixed", [][]core.Key{{ip, user, pair}, {ip}}, []core.Key{ip, user, pair}, t0, []int{1, 0, 0}, 1},
		{"repeated key once", [][]core.Key{{ip}, {ip}, {ip}}, []core.Key{ip, ip}, t0, []int{2, 0, 0}, 1},
		{"expired", [][]core.Key{{ip}}, []core.Key{ip}, t0.Add(2 * time.Minute), nil, 0},
		{"tier keeps it", [][]core.Key{{ip}, {ip}, {ip}}, []core.Key{ip}, t0.Add(2 * time.Minute), []int{2, 0, 0}, 1},
		{"missing", nil, []core.Key{ip, user}, t0, nil, 0},
		{"no keys", [][]core.Key{{ip}}, nil, t0, []int{1, 0, 0}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prefix := randomPrefix(t, rdb)
			s := newStore(t, rdb, redisstore.Options{Prefix: prefix})
			for _, ks := range tt.hits {
				_, err := s.Hit(ctx, ks, t0, p, make([]core.Counter, len(ks)))
				require.NoError(t, err, "Hit")
			}
			log := core.AccessLog{Username: "bob", IP: "192.0.2.1", UserAgent: "ua/1", Path: "/in", LoginTime: tt.at}
			require.NoError(t, s.ReleaseAndRecordLogin(ctx, tt.release, tt.at, p, log), "ReleaseAndRecordLogin")

			out := make([]core.Counter, 3)
			require.NoError(t, s.Peek(ctx, []core.Key{ip, user, pair}, tt.at, p, out))
			want := tt.want
			if want == nil {
				want = []int{0, 0, 0}
			}
			assert.Equal(t, want, []int{out[0].Failures, out[1].Failures, out[2].Failures}, "counters (ip, user, pair) after the step")
			n, err := rdb.ZCard(ctx, prefix+"{axes}:C").Result()
			require.NoError(t, err)
			assert.Equal(t, int64(tt.left), n, "counters indexed: got %d, want %d", n, tt.left)
			if tt.left == 0 {
				left, err := scanKeys(rdb, prefix+"{axes}:[ciu]:*")
				require.NoError(t, err)
				assert.Empty(t, left, "counter and index keys left: got %v, want none", left)
			}

			logs, total, err := s.AccessLogs(ctx, core.ListQuery{})
			require.NoError(t, err)
			require.Equal(t, 1, total, "access logs: got %d, want 1", total)
			assert.Equal(t, core.AccessLog{ID: logs[0].ID, Username: "bob", IP: "192.0.2.1", UserAgent: "ua/1", Path: "/in", LoginTime: tt.at}, logs[0])
			// The row is the user's open session: RecordLogout closes it.
			require.NoError(t, s.RecordLogout(ctx, "bob", "192.0.2.1", tt.at.Add(time.Second)))
			logs, _, err = s.AccessLogs(ctx, core.ListQuery{Filter: core.Filter{Username: "bob"}})
			require.NoError(t, err)
			require.Len(t, logs, 1)
			assert.True(t, logs[0].LogoutTime.Equal(tt.at.Add(time.Second)), "LogoutTime: got %v", logs[0].LogoutTime)
		})
	}
}

// TestReleaseAndRecordLoginCanceled: a canceled context is an error and
// changes nothing.
func TestReleaseAndRecordLoginCanceled(t *testing.T) {
	rdb := newClient(t)
	s := newStore(t, rdb, redisstore.Options{})
	t0 := time.Unix(1_700_000_000, 0).UTC()
	k := []core.Key{core.NewKey(core.ParamIPAddress, "192.0.2.1", "", "")}
	p := core.Policy{Limit: 3}
	_, err := s.Hit(context.Background(), k, t0, p, make([]core.Counter, 1))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.ReleaseAndRecordLogin(ctx, k, t0, p, core.AccessLog{Username: "bob", LoginTime: t0})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "axes: redisstore: record login:")
	out := make([]core.Counter, 1)
	require.NoError(t, s.Peek(context.Background(), k, t0, p, out))
	assert.Equal(t, 1, out[0].Failures, "counter after a canceled step: got %d, want 1", out[0].Failures)
	_, total, err := s.AccessLogs(context.Background(), core.ListQuery{})
	require.NoError(t, err)
	assert.Zero(t, total, "access logs after a canceled step: got %d, want 0", total)
}
