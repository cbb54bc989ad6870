package core_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// lockoutEngine is an engine with the default lockout response settings
// and a cool-off.
func lockoutEngine(t *testing.T, change func(*core.Config)) *core.Engine {
	t.Helper()
	cfg := core.DefaultConfig()
	cfg.CoolOff = 30 * time.Minute
	if change != nil {
		change(&cfg)
	}
	e, err := core.New(cfg)
	require.NoError(t, err)
	return e
}

// locked is a lockout decision for username with 10 seconds short of a
// full cool-off left.
func locked(username string, coolOff time.Duration, failures int) core.Decision {
	now := time.Unix(1_700_000_000, 0)
	d := core.Decision{Outcome: core.Locked, Now: now, Username: username, Limit: 3, Failures: failures, CoolOff: coolOff}
	if coolOff > 0 {
		d.LockedUntil = now.Add(coolOff - 10*time.Second)
	}
	return d
}

func jsonFacts() core.Facts {
	return core.Facts{Request: &core.Request{Header: http.Header{"Accept": {"application/json"}}}}
}

// The JSON lockout body is what encoding/json writes for the
// LockoutContext, whatever the username holds.
func TestJSONLockoutBodyIsEncodingJSONs(t *testing.T) {
	e := lockoutEngine(t, nil)
	for name, username := range map[string]string{
		"plain":            "alice",
		"empty":            "",
		"quotes and slash": `a"b\c/d`,
		"html":             "<script>&amp;</script>",
		"controls":         "a\x00\x01\b\f\n\r\t\x1f\x7fz",
		"unicode":          "日本語 é ñ 🙂",
		"separators":       "a\u2028b\u2029c",
		"invalid utf-8":    "a\xffb\xc3(c\xed\xa0\x80",
	} {
		for _, coolOff := range []time.Duration{0, 30 * time.Minute, 26*time.Hour + 61*time.Second} {
			t.Run(name+"/"+coolOff.String(), func(t *testing.T) {
				d := locked(username, coolOff, 4)
				resp := e.Response(jsonFacts(), d)
				lc := core.LockoutContext{FailureLimit: 3, FailureCount: 4, Username: username, RetryAfter: d.RetryAfter()}
				if coolOff > 0 {
					lc.CoolOffTime = core.ISODuration(coolOff)
				}
				want, err := json.Marshal(lc)
				require.NoError(t, err)
				assert.Equal(t, string(want), string(resp.Body))
			})
		}
	}
}

func FuzzJSONLockoutBody(f *testing.F) {
	for _, s := range []string{"alice", "<&>", "\xff", "a\u2028", "\x00\"\\"} {
		f.Add(s, 4, int64(30*time.Minute))
	}
	e, err := core.New(core.DefaultConfig())
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, username string, failures int, coolOff int64) {
		d := locked(username, time.Duration(coolOff), failures)
		resp := e.Response(jsonFacts(), d)
		lc := core.LockoutContext{FailureLimit: 3, FailureCount: failures, Username: username, RetryAfter: d.RetryAfter()}
		if d.CoolOff > 0 {
			lc.CoolOffTime = core.ISODuration(d.CoolOff)
		}
		want, err := json.Marshal(lc)
		require.NoError(t, err)
		if string(want) != string(resp.Body) {
			t.Fatalf("body %s, want %s", resp.Body, want)
		}
	})
}

// The headers of each kind of response are exactly these.
func TestLockoutResponseHeaders(t *testing.T) {
	const cors = "Origin, Content-Type, Accept, Authorization, x-requested-with"
	e := lockoutEngine(t, func(c *core.Config) { c.AllowedCORSOrigins = "https://app.example" })
	plain := core.Facts{Request: &core.Request{Header: http.Header{}}}
	for _, tc := range []struct {
		name   string
		facts  core.Facts
		d      core.Decision
		status int
		header http.Header
		body   string
	}{
		{"json lockout", jsonFacts(), locked("alice", 30*time.Minute, 3), 429, http.Header{
			"Content-Type": {"application/json"}, "Access-Control-Allow-Origin": {"https://app.example"},
			"Access-Control-Allow-Methods": {"POST, OPTIONS"}, "Access-Control-Allow-Headers": {cors}, "Retry-After": {"1790"},
		}, `{"failure_limit":3,"failure_count":3,"username":"alice","cooloff_time":"PT30M","retry_after":1790}`},
		{"json permanent lockout", jsonFacts(), locked("alice", 0, 3), 429, http.Header{
			"Content-Type": {"application/json"}, "Access-Control-Allow-Origin": {"https://app.example"},
			"Access-Control-Allow-Methods": {"POST, OPTIONS"}, "Access-Control-Allow-Headers": {cors},
		}, `{"failure_limit":3,"failure_count":3,"username":"alice"}`},
		{"plain lockout", plain, locked("alice", 30*time.Minute, 3), 429, http.Header{
			"Content-Type": {"text/plain; charset=utf-8"}, "Retry-After": {"1790"},
		}, "Account locked: too many login attempts. Please try again later."},
		{"plain permanent lockout", core.Facts{}, locked("alice", 0, 3), 429, http.Header{
			"Content-Type": {"text/plain; charset=utf-8"},
		}, "Account locked: too many login attempts. Contact an admin to unlock your account."},
		{"store outage", plain, core.Decision{Outcome: core.Unavailable}, 503, http.Header{
			"Content-Type": {"text/plain; charset=utf-8"}, "Retry-After": {"2"},
		}, "Login is temporarily unavailable. Please try again later."},
		{"store outage as json", jsonFacts(), core.Decision{Outcome: core.Unavailable}, 503, http.Header{
			"Content-Type": {"application/json"}, "Retry-After": {"2"},
		}, `{"error":"Login is temporarily unavailable. Please try again later."}`},
		{"unknown client", plain, core.Decision{Outcome: core.UnknownClient}, 403, http.Header{
			"Content-Type": {"text/plain; charset=utf-8"},
		}, "Your network address could not be determined."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.Response(tc.facts, tc.d)
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, tc.header, resp.Header)
			assert.Equal(t, tc.body, string(resp.Body))
		})
	}
}

// Engine.Response's caller owns the response: changing it changes no
// later response.
func TestResponseIsTheCallers(t *testing.T) {
	e := lockoutEngine(t, nil)
	for _, f := range []core.Facts{jsonFacts(), {}} {
		first := e.Response(f, locked("alice", 30*time.Minute, 3))
		first.Header["Retry-After"][0] = "0"
		first.Header["Content-Type"][0] = "text/evil"
		for i := range first.Body {
			first.Body[i] = 'x'
		}
		second := e.Response(f, locked("alice", 30*time.Minute, 3))
		assert.Equal(t, "1790", second.Header.Get("Retry-After"))
		assert.NotEqual(t, "text/evil", second.Header.Get("Content-Type"))
		assert.NotContains(t, string(second.Body), "xxx")
	}
}

func TestWantsJSON(t *testing.T) {
	for _, tc := range []struct {
		h    core.Header
		want bool
	}{
		{nil, false},
		{http.Header(nil), false},
		{http.Header{}, false},
		{http.Header{"Accept": {"text/html, Application/JSON;q=0.9"}}, true},
		{http.Header{"Accept": {"text/html"}}, false},
		{http.Header{"X-Requested-With": {"xmlhttprequest"}}, true},
		{http.Header{"Content-Type": {"Application/Json; charset=utf-8"}}, true},
		{http.Header{"Content-Type": {"application/vnd.api+JSON"}}, true},
		{http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, false},
		{http.Header{"Content-Type": {"appl\u0130cation/json"}}, true}, // strings.ToLower maps İ to i
		{getter{"Accept": "application/json"}, true},
		{getter{"Accept": "text/plain"}, false},
	} {
		assert.Equal(t, tc.want, core.WantsJSON(tc.h), "WantsJSON(%v)", tc.h)
	}
}

// getter is a Header that is not an http.Header.
type getter map[string]string

func (g getter) Get(name string) string { return g[name] }

func TestISODurationSpellsEveryUnit(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "PT0S", time.Second: "PT1S", 1500 * time.Millisecond: "PT2S", time.Hour: "PT1H",
		90061 * time.Second: "P1DT1H1M1S", 3 * 24 * time.Hour: "P3D", 24*time.Hour + time.Second: "P1DT1S",
	} {
		assert.Equal(t, want, core.ISODuration(d), "ISODuration(%s)", d)
	}
}
