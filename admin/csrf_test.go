package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/admin"
	"github.com/goaxes/axes/core"
)

// sessionPost posts form to the reset page with the session cookie sid
// ("" for none) and no other cookie, and returns the status and body.
func (s *site) sessionPost(sid string, form url.Values) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+"reset", strings.NewReader(form.Encode()))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Admin", "yes")
	if sid != "" {
		req.AddCookie(&http.Cookie{Name: "sid", Value: sid})
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sessionToken loads the attempts page in session sid and returns the
// CSRF token of its forms ("" when they carry none).
func (s *site) sessionToken(sid string) string {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+"attempts", nil)
	require.NoError(s.t, err)
	req.Header.Set("X-Admin", "yes")
	if sid != "" {
		req.AddCookie(&http.Cookie{Name: "sid", Value: sid})
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(s.t, http.StatusOK, resp.StatusCode)
	assert.Empty(s.t, resp.Cookies(), "with Options.Session, no cookie of the page's own")
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		return m[1]
	}
	assert.Contains(s.t, string(b), `name="csrf" value=""`)
	return ""
}

// TestCSRFBoundToSession: with Options.Session, a form's token works in
// the session whose page carried it and in no other, nor without one.
func TestCSRFBoundToSession(t *testing.T) {
	e := newEngine(t)
	fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
	s := newSiteWith(t, e, admin.Options{Session: admin.CookieSession("sid")})
	reset := func(tok string) url.Values {
		return url.Values{"action": {"ip"}, "ip": {"10.0.0.1"}, "csrf": {tok}}
	}
	tokA, tokB := s.sessionToken("session-a"), s.sessionToken("session-b")
	require.NotEmpty(t, tokA)
	require.NotEqual(t, tokA, tokB)
	assert.Empty(t, s.sessionToken(""), "no session, no token")

	for _, tc := range []struct {
		name, sid, tok, want string
	}{
		{"another session's token", "session-b", tokA, "from another session. Reload the admin page"},
		{"a token after its session ended", "session-c", tokA, "from another session. Reload the admin page"},
		{"no session", "", tokA, "no session to check this form's CSRF token against"},
		{"no token", "session-a", "", "CSRF token missing or invalid"},
		{"a forged token", "session-a", strings.Repeat("A", len(tokA)), "CSRF token missing or invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.sessionPost(tc.sid, reset(tc.tok))
			assert.Equal(t, http.StatusForbidden, code)
			assert.Contains(t, body, tc.want)
			assert.True(t, locked(t, e, "10.0.0.1", "alice"), "a refused reset must change nothing")
		})
	}
	t.Run("its own session", func(t *testing.T) {
		code, _ := s.sessionPost("session-a", reset(tokA))
		assert.Equal(t, http.StatusSeeOther, code)
		assert.False(t, locked(t, e, "10.0.0.1", "alice"))
	})
}

// TestCSRFExpires: a form is accepted for CSRFMaxAge (12 hours by default)
// after its page was served, on the engine's clock, then refused with a
// message that asks to reload; with Options.Session and without.
func TestCSRFExpires(t *testing.T) {
	for name, opts := range map[string]admin.Options{
		"bound to the page's cookie": {},
		"bound to the session":       {Session: admin.CookieSession("sid")},
		"CSRFMaxAge 1m":              {Session: admin.CookieSession("sid"), CSRFMaxAge: time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			maxAge := cmpOr(opts.CSRFMaxAge, 12*time.Hour)
			e, clk := newEngineClock(t, nil)
			fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
			s := newSiteWith(t, e, opts)
			u, _ := url.Parse(s.base)
			s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "sid", Value: "session-a"}})
			post := func(tok, ip string) (*http.Response, string) {
				t.Helper()
				return s.do(http.MethodPost, "reset", url.Values{"action": {"ip"}, "ip": {ip}, "csrf": {tok}}, true)
			}
			// kept reports whether 10.0.0.1's attempt record is still there
			// (its lockout may have cooled off meanwhile).
			kept := func() bool {
				t.Helper()
				rs, _ := e.Records()
				_, n, err := rs.Attempts(context.Background(), core.ListQuery{Filter: core.Filter{IP: "10.0.0.1"}})
				require.NoError(t, err)
				return n == 1
			}

			tok := s.token()
			clk.add(maxAge)
			resp, _ := post(tok, "192.0.2.9")
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "a form exactly %s old is accepted", maxAge)

			clk.add(time.Second)
			resp, body := post(tok, "10.0.0.1")
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			assert.Contains(t, body, "this form has expired")
			assert.Contains(t, body, "Reload the admin page and try again.")
			assert.True(t, kept(), "an expired form must change nothing")

			tok = s.token()
			clk.add(-2 * time.Minute)
			resp, _ = post(tok, "10.0.0.1")
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a token issued in the future (beyond a minute of clock skew)")
			assert.True(t, kept())

			resp, _ = post(s.token(), "10.0.0.1")
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "a reloaded page's form works")
			assert.False(t, kept())
		})
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d != 0 {
		return d
	}
	return def
}
