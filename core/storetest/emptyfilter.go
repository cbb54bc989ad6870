package storetest

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// testEmptyFilter checks that no filter widens into "everything": an
// Engine on the store refuses a reset whose filter is empty or becomes
// empty once canonicalised (ErrBadFilter) and changes nothing, and the
// store itself never lets an IP side that matches nothing (a filter with
// only IPGroup, for records) fall away.
func testEmptyFilter(t *testing.T, newStore func(*testing.T) core.Store) {
	t.Run("EngineRefuses", func(t *testing.T) { testEmptyFilterEngine(t, newStore(t)) })
	t.Run("IPGroupOnly", func(t *testing.T) { testEmptyFilterIPGroup(t, newStore(t)) })
}

// emptyFilterClients are the clients that testEmptyFilterEngine locks out,
// as (ip, username).
var emptyFilterClients = [][2]string{{"10.0.0.1", "alice"}, {"10.0.0.2", "bob"}, {"2001:db8::1", "carol"}}

func emptyFilterRequest(ip, username string) *core.Request {
	return &core.Request{RemoteAddr: ip, Method: http.MethodPost, Path: "/login", Username: username,
		Header: http.Header{"User-Agent": {"curl/8"}}}
}

func testEmptyFilterEngine(t *testing.T, s core.Store) {
	ctx := context.Background()
	cfg := core.DefaultConfig()
	cfg.Store = s
	cfg.Clock = func() time.Time { return t0 }
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.LockoutParameters = []core.Combination{core.ParamIPAddress, core.ParamUsername, core.ParamIPAddress | core.ParamUsername}
	e, err := core.New(cfg)
	require.NoError(t, err, "core.New")
	for _, c := range emptyFilterClients {
		for range 3 {
			e.ReportFailure(ctx, emptyFilterRequest(c[0], c[1]))
		}
	}
	rs, isRecords := s.(core.RecordStore)
	// unchanged asserts that every client is still locked and every record
	// still kept.
	unchanged := func(what string) {
		t.Helper()
		for _, c := range emptyFilterClients {
			d := e.Status(ctx, emptyFilterRequest(c[0], c[1]))
			require.NoError(t, d.Err, "Status")
			assert.Equal(t, core.Locked, d.Outcome, "after %s: %s as %s: got %v, want still locked", what, c[0], c[1], d.Outcome)
		}
		if isRecords {
			_, total := attempts(t, rs, core.ListQuery{})
			assert.Equal(t, len(emptyFilterClients), total, "after %s: got %d attempt records, want all %d kept", what, total, len(emptyFilterClients))
		}
	}
	unchanged("the failures")

	for _, f := range []core.Filter{
		{},
		{Either: true},
		{IPGroup: "2001:db8::/64"},
		{Username: "\u200b"}, // zero-width space: a format character
		{Username: "\x01"},   // a control character
		{Username: "\u00ad"}, // soft hyphen: a format character
		{Username: "\x00\u202e\u200b\ufeff"},
		{Username: " \t\u3000 "}, // spaces only
		{Username: "\u200b", IP: "10.0.0.1"},
		{Username: "\u200b", IP: "10.0.0.1", Either: true},
		{IP: "not-an-ip"},
		{IP: " "},
		{IP: "10.0.0.999", Username: "alice", Either: true},
	} {
		n, err := e.Reset(ctx, f)
		require.ErrorIs(t, err, core.ErrBadFilter, "Reset(%+q): want ErrBadFilter", f)
		assert.Equal(t, 0, n, "Reset(%+q): got %d removed, want 0", f, n)
		unchanged("a refused Reset")
	}

	// The request's own client, when it has no IP and names a username that
	// is empty once canonicalised, is nobody: nothing is reset.
	r := emptyFilterRequest("", "")
	r.RawQuery = "username=%E2%80%8B"
	n, err := e.ResetRequest(ctx, r)
	require.NoError(t, err, "ResetRequest without IP, ?username=U+200B")
	assert.Equal(t, 0, n, "ResetRequest without IP, ?username=U+200B: got %d removed, want 0", n)
	unchanged("ResetRequest without IP and a blank username")

	// A blank username next to the request's IP resets that IP alone: bob's
	// own counter (by username) stays.
	r = emptyFilterRequest("10.0.0.2", "")
	r.RawQuery = "username=%E2%80%8B"
	n, err = e.ResetRequest(ctx, r)
	require.NoError(t, err, "ResetRequest from 10.0.0.2, ?username=U+200B")
	if isRecords {
		assert.Equal(t, 1, n, "ResetRequest from 10.0.0.2, ?username=U+200B: got %d records removed, want 1", n)
	}
	for _, c := range [][3]string{{"10.0.0.2", "dave", "allowed"}, {"10.0.0.9", "bob", "locked"}, {"10.0.0.1", "alice", "locked"}, {"2001:db8::1", "carol", "locked"}} {
		d := e.Status(ctx, emptyFilterRequest(c[0], c[1]))
		assert.Equal(t, c[2], d.Outcome.String(), "after ResetRequest from 10.0.0.2: %s as %s", c[0], c[1])
	}

	n, err = e.ResetAll(ctx)
	require.NoError(t, err, "ResetAll")
	if isRecords {
		assert.Equal(t, len(emptyFilterClients)-1, n, "ResetAll: got %d attempt records removed, want %d", n, len(emptyFilterClients)-1)
		_, total := attempts(t, rs, core.ListQuery{})
		assert.Equal(t, 0, total, "after ResetAll: got %d attempt records, want none", total)
	}
	for _, c := range emptyFilterClients {
		d := e.Status(ctx, emptyFilterRequest(c[0], c[1]))
		assert.Equal(t, core.Allowed, d.Outcome, "after ResetAll: %s as %s: got %v, want allowed", c[0], c[1], d.Outcome)
	}
}

// testEmptyFilterIPGroup: a filter with only IPGroup selects the counters
// of that group and, as Filter.MatchesRecord says, no record by IP; with
// Either and a username, only that username's records.
func testEmptyFilterIPGroup(t *testing.T, s core.Store) {
	ctx := context.Background()
	p := core.Policy{Limit: 3}
	rs, isRecords := s.(core.RecordStore)
	seed := func() {
		t.Helper()
		for _, k := range []core.Key{keyV6, keyV6Bob, keyIP1, keyAlice} {
			hit(t, s, t0, p, k)
		}
		if isRecords {
			for _, r := range []attemptID{{"bob", "2001:db8::1", "curl/8"}, {"alice", "10.0.0.1", "curl/8"}} {
				fail(t, rs, core.AttemptRecord{Username: r.Username, IP: r.IP, UserAgent: r.UserAgent, Path: "/login", LastAttempt: t0}, false, false, 0)
			}
		}
	}
	group := "2001:db8::/64"
	tests := []struct {
		name    string
		filter  core.Filter
		cleared []core.Key  // counters removed
		kept    []attemptID // records left
	}{
		{"group alone", core.Filter{IPGroup: group}, []core.Key{keyV6, keyV6Bob},
			[]attemptID{{"bob", "2001:db8::1", "curl/8"}, {"alice", "10.0.0.1", "curl/8"}}},
		{"group and username", core.Filter{IPGroup: group, Username: "bob"}, []core.Key{keyV6Bob},
			[]attemptID{{"bob", "2001:db8::1", "curl/8"}, {"alice", "10.0.0.1", "curl/8"}}},
		{"group or username", core.Filter{IPGroup: group, Username: "alice", Either: true}, []core.Key{keyV6, keyV6Bob, keyAlice},
			[]attemptID{{"bob", "2001:db8::1", "curl/8"}}},
	}
	all := []core.Key{keyV6, keyV6Bob, keyIP1, keyAlice}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Reset(ctx, core.Filter{})
			require.NoError(t, err, "Reset of everything before the case")
			seed()
			if isRecords {
				rows, total := attempts(t, rs, core.ListQuery{Filter: tt.filter})
				want := 0
				if tt.filter.Either {
					want = 1
				}
				assert.Equal(t, want, total, "Attempts(Filter %+v): got %d rows (%v), want %d", tt.filter, total, ids(rows), want)
			}
			_, err = s.Reset(ctx, tt.filter)
			require.NoError(t, err, "Reset(%+v)", tt.filter)
			got := peek(t, s, t0, p, all...)
			for i, k := range all {
				want := 1
				for _, c := range tt.cleared {
					if c.ID == k.ID {
						want = 0
					}
				}
				assert.Equal(t, want, got[i].Failures, "Reset(%+v): counter %s: got %d, want %d", tt.filter, k.ID, got[i].Failures, want)
			}
			if isRecords {
				rows, _ := attempts(t, rs, core.ListQuery{})
				assert.ElementsMatch(t, tt.kept, ids(rows), "Reset(%+v): got the records on the left, want those on the right (records compare IP exactly)", tt.filter)
			}
		})
	}
}
