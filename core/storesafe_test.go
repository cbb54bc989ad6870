package core_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

func TestStoreEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"alice", "alice"},
		{"Mozilla/5.0 (X11; Linux x86_64) \\ % _ é ü 日本", "Mozilla/5.0 (X11; Linux x86_64) \\ % _ é ü 日本"},
		{"\xff", "\uFFFDff"},
		{"\x00", "\uFFFD00"},
		{"\uFFFD", "\uFFFD\uFFFD"},
		{"a\xc3", "a\uFFFDc3"},                       // a sequence cut short
		{"\xed\xa0\x80", "\uFFFDed\uFFFDa0\uFFFD80"}, // a surrogate, which UTF-8 forbids
		{"\xc0\xaf", "\uFFFDc0\uFFFDaf"},             // an overlong "/"
		{"ok\x00\xffé\uFFFDff", "ok\uFFFD00\uFFFDffé\uFFFD\uFFFDff"},
		{"\x01\t\n", "\x01\t\n"}, // other control characters are text
	} {
		got := core.StoreEscape(c.in)
		assert.Equal(t, c.want, got, "StoreEscape(%q)", c.in)
		assert.Equal(t, c.in, core.StoreUnescape(got), "StoreUnescape(StoreEscape(%q))", c.in)
	}
}

// Strings that StoreEscape cannot have written come back as they are.
func TestStoreUnescapeLenient(t *testing.T) {
	for _, s := range []string{"bob\uFFFD", "\uFFFD", "\uFFFDf", "\uFFFDFF", "\uFFFDzz", "a\uFFFD\uFFFD\uFFFD"} {
		got := core.StoreUnescape(s)
		assert.True(t, utf8.ValidString(s))
		if s == "a\uFFFD\uFFFD\uFFFD" {
			assert.Equal(t, "a\uFFFD\uFFFD", got)
			continue
		}
		assert.Equal(t, s, got, "StoreUnescape(%q)", s)
	}
}

// What needs no escape costs nothing: ordinary requests allocate no more
// than before.
func TestStoreEscapeNoAllocation(t *testing.T) {
	for _, s := range []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "ａｌｉｃｅ", "corp\\alice"} {
		allocs := testing.AllocsPerRun(100, func() { _ = core.StoreEscape(s) })
		assert.Zero(t, allocs, "StoreEscape(%q)", s)
	}
}

// StoreEscape is injective (StoreUnescape undoes it) and its result is
// what every store keeps as text.
func FuzzStoreEscape(f *testing.F) {
	for _, s := range []string{"", "alice", "\xff", "\x00", "\uFFFD", "\uFFFDff", "a\xc3", "\xed\xa0\x80", "é\x00\xfe\uFFFD00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := core.StoreEscape(s)
		if !utf8.ValidString(e) || strings.IndexByte(e, 0) >= 0 {
			t.Fatalf("StoreEscape(%q) = %q: not valid UTF-8 without NUL", s, e)
		}
		if got := core.StoreUnescape(e); got != s {
			t.Fatalf("StoreUnescape(StoreEscape(%q)) = %q", s, got)
		}
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0) && !strings.ContainsRune(s, utf8.RuneError) && e != s {
			t.Fatalf("StoreEscape(%q) = %q: changed a string that needs no escape", s, e)
		}
	})
}

// The records an Engine keeps of a request, and the status of such a
// record, round-trip through the escape: Status of the record's request is
// the status of the request.
func TestStatusRequestOfHostileRecord(t *testing.T) {
	e, _ := newEngine(t, func(c *core.Config) {
		c.LockoutParameters = []core.Combination{core.ParamIPAddress | core.ParamUserAgent, core.ParamUsername | core.ParamUserAgent}
	})
	ctx := context.Background()
	r := &core.Request{RemoteAddr: "192.0.2.9:1", Method: http.MethodPost, Path: "/login\xff", Username: "Eve\x00\xff\uFFFD",
		Header: http.Header{"User-Agent": {"x\xff\x00\uFFFD"}}}
	for range 3 {
		e.ReportFailure(ctx, r)
	}
	require.Equal(t, core.Locked, e.Status(ctx, r).Outcome)
	rs, ok := e.Records()
	require.True(t, ok)
	rows, total, err := rs.Attempts(ctx, core.ListQuery{})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	rec := rows[0]
	assert.Equal(t, "x\uFFFDff\uFFFD00\uFFFD\uFFFD", rec.UserAgent)
	assert.Equal(t, "/login\uFFFDff", rec.Path)
	assert.Equal(t, core.StoreEscape(core.CanonicalUsername(r.Username)), rec.Username)
	assert.Equal(t, core.Locked, e.Status(ctx, rec.StatusRequest()).Outcome, "the record's request is locked")
	// The same client with other bytes is another client.
	other := *r
	other.Header = http.Header{"User-Agent": {rec.UserAgent}}
	assert.Equal(t, core.Allowed, e.Status(ctx, &other).Outcome, "a user agent spelt as the stored escape")
}
