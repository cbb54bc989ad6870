package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// resetRecords are the attempt records that testReset keeps in a
// RecordStore, as (username, ip, user agent).
var resetRecords = []attemptID{
	{"alice", "10.0.0.1", "curl/8"},
	{"alice", "10.0.0.2", "curl/8"},
	{"bob", "10.0.0.1", "firefox"},
	{"bob", "2001:db8::1", "curl/8"},
	{"carol", "10.0.0.3", "curl/8"},
	{"alice", "10.0.0.1", "firefox"},
}

type attemptID struct{ Username, IP, UserAgent string }

func testReset(t *testing.T, newStore func(*testing.T) core.Store) {
	all := []core.Key{keyIP1, keyIP2, keyAlice, keyBob, keyIP1Bob, keyIP1Ali, keyIP2Ali, keyIP1Curl, keyAliCurl, keyV6, keyV6Bob}
	tests := []struct {
		name    string
		filter  core.Filter
		keys    []core.Key // the counters removed
		records []int      // indexes in resetRecords of the records removed
	}{
		{"all", core.Filter{}, all, []int{0, 1, 2, 3, 4, 5}},
		{"ip", core.Filter{IP: "10.0.0.1"}, []core.Key{keyIP1, keyIP1Bob, keyIP1Ali, keyIP1Curl}, []int{0, 2, 5}},
		{"username", core.Filter{Username: "alice"}, []core.Key{keyAlice, keyIP1Ali, keyIP2Ali, keyAliCurl}, []int{0, 1, 5}},
		{"ip and username", core.Filter{IP: "10.0.0.1", Username: "alice"}, []core.Key{keyIP1Ali}, []int{0, 5}},
		{"ip or username", core.Filter{IP: "10.0.0.1", Username: "alice", Either: true},
			[]core.Key{keyIP1, keyIP1Bob, keyIP1Ali, keyIP1Curl, keyAlice, keyIP2Ali, keyAliCurl}, []int{0, 1, 2, 5}},
		{"ipv6 group", core.Filter{IP: "2001:db8::1", IPGroup: "2001:db8::/64"}, []core.Key{keyV6, keyV6Bob}, []int{3}},
		{"nothing matches", core.Filter{IP: "192.0.2.1", Username: "mallory"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			p := core.Policy{Limit: 3}
			for _, k := range all {
				hit(t, s, t0, p, k)
			}
			rs, isRecords := s.(core.RecordStore)
			if isRecords {
				for i, r := range resetRecords {
					rec := core.AttemptRecord{Username: r.Username, IP: r.IP, UserAgent: r.UserAgent, Path: "/login", LastAttempt: t0.Add(time.Duration(i) * time.Second)}
					require.NoError(t, rs.RecordFailure(ctx, rec, false, false, 0), "RecordFailure")
				}
			}

			n, err := s.Reset(ctx, tt.filter)
			require.NoError(t, err, "Reset(%+v)", tt.filter)

			got := peek(t, s, t0, p, all...)
			for i, k := range all {
				want := 1
				if slices.ContainsFunc(tt.keys, func(r core.Key) bool { return r.ID == k.ID }) {
					want = 0
				}
				assert.Equal(t, want, got[i].Failures, "Reset(%+v): counter %s: got %d, want %d", tt.filter, k.ID, got[i].Failures, want)
			}
			if !isRecords {
				assert.Equal(t, len(tt.keys), n, "Reset(%+v) of a store without records: got %d removed, want %d counters", tt.filter, n, len(tt.keys))
				return
			}
			assert.Equal(t, len(tt.records), n, "Reset(%+v): got %d removed, want %d attempt records", tt.filter, n, len(tt.records))
			var want []attemptID
			for i, r := range resetRecords {
				if !slices.Contains(tt.records, i) {
					want = append(want, r)
				}
			}
			rows, total, err := rs.Attempts(ctx, core.ListQuery{})
			require.NoError(t, err, "Attempts")
			assert.Equal(t, len(want), total, "Attempts after Reset(%+v): got total %d, want %d", tt.filter, total, len(want))
			assert.ElementsMatch(t, want, ids(rows), "Attempts after Reset(%+v): got the records on the left, want those on the right", tt.filter)
		})
	}
}

func ids(rows []core.AttemptRecord) []attemptID {
	out := make([]attemptID, len(rows))
	for i, r := range rows {
		out[i] = attemptID{r.Username, r.IP, r.UserAgent}
	}
	return out
}
