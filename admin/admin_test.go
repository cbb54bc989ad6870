package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/admin"
	"github.com/goaxes/axes/core"
)

const xss = `<img src=x onerror=alert(1)>`

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func newEngine(t *testing.T, params ...core.Combination) *core.Engine {
	t.Helper()
	return newEngineOn(t, nil, params...)
}

// newEngineOn is newEngine on store (nil: the memory store).
func newEngineOn(t *testing.T, store core.Store, params ...core.Combination) *core.Engine {
	t.Helper()
	e, _ := newEngineClock(t, store, params...)
	return e
}

// newEngineClock is newEngineOn with the engine's clock, to move.
func newEngineClock(t *testing.T, store core.Store, params ...core.Combination) (*core.Engine, *clock) {
	t.Helper()
	cfg := core.DefaultConfig()
	cfg.Store = store
	cfg.LockoutParameters = params
	cfg.FailureLimit = 3
	cfg.CoolOff = 30 * time.Minute
	cfg.EnableAccessFailureLog = true
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg.Clock = c.now
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := core.New(cfg)
	require.NoError(t, err)
	return e, c
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fail records n failed logins of username from ip.
func fail(t *testing.T, e *core.Engine, ip, username, ua string, n int) {
	t.Helper()
	for range n {
		e.ReportFailure(context.Background(), &core.Request{
			RemoteAddr: ip + ":40000", Method: http.MethodPost, Path: "/login", Username: username,
			Header: http.Header{"User-Agent": {ua}},
		})
	}
}

func locked(t *testing.T, e *core.Engine, ip, username string) bool {
	t.Helper()
	d := e.Status(context.Background(), &core.Request{RemoteAddr: ip + ":40000", Method: http.MethodPost, Path: "/login", Username: username})
	return d.Outcome == core.Locked
}

// site mounts the admin page as the package comment says, at /admin/axes/,
// and allows requests with the header X-Admin: yes.
type site struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
	base   string
}

func newSite(t *testing.T, e *core.Engine, authorize func(*http.Request) bool) *site {
	t.Helper()
	return newSiteWith(t, e, admin.Options{Authorize: authorize})
}

// newSiteWith is newSite with more options (PageSize 2 unless set).
func newSiteWith(t *testing.T, e *core.Engine, opts admin.Options) *site {
	t.Helper()
	if opts.Authorize == nil {
		opts.Authorize = func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" }
	}
	if opts.PageSize == 0 {
		opts.PageSize = 2
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/axes/", http.StripPrefix("/admin/axes", admin.Handler(e, opts)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &site{t: t, srv: srv, client: client, base: srv.URL + "/admin/axes/"}
}

func (s *site) do(method, path string, form url.Values, admin bool) (*http.Response, string) {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.base+path, body)
	require.NoError(s.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if admin {
		req.Header.Set("X-Admin", "yes")
	}
	resp, err := s.client.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token loads the attempts page and returns its CSRF token.
func (s *site) token() string {
	s.t.Helper()
	resp, body := s.do(http.MethodGet, "attempts", nil, true)
	require.Equal(s.t, http.StatusOK, resp.StatusCode)
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(s.t, m, "no CSRF token in the attempts page")
	return m[1]
}

func TestRefusesWithoutAuthorization(t *testing.T) {
	e := newEngine(t)
	for name, authorize := range map[string]func(*http.Request) bool{
		"nil Authorize":     nil,
		"Authorize says no": func(*http.Request) bool { return false },
	} {
		t.Run(name, func(t *testing.T) {
			h := admin.Handler(e, admin.Options{Authorize: authorize})
			for _, target := range []string{"/", "/attempts", "/access-logs", "/failure-logs", "/attempts?format=json", "/reset"} {
				for _, method := range []string{http.MethodGet, http.MethodPost} {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
					assert.Equal(t, http.StatusForbidden, rec.Code, "%s %s: got %d, want 403", method, target, rec.Code)
					assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
				}
			}
		})
	}
}

func TestPagesAndSecurityHeaders(t *testing.T) {
	e := newEngine(t)
	fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
	s := newSite(t, e, nil)
	for _, path := range []string{"", "attempts", "attempts?status=locked", "attempts?status=unlocked&sort=ip&dir=asc", "access-logs", "failure-logs", "?range=7d", "?range=30d"} {
		t.Run("/"+path, func(t *testing.T) {
			resp, body := s.do(http.MethodGet, path, nil, true)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			csp := resp.Header.Get("Content-Security-Policy")
			assert.Contains(t, csp, "default-src 'self'")
			assert.Contains(t, csp, "script-src 'none'")
			assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			assert.NotContains(t, body, "<script")
			assert.NotContains(t, body, " style=", "inline style attributes break the CSP")
			assert.NotContains(t, body, `href="/`, "links must be relative to work under any prefix")
		})
	}
	_, body := s.do(http.MethodGet, "", nil, true)
	assert.Contains(t, body, "<svg")
	assert.Regexp(t, `id="locked-now">1<`, body)
	_, body = s.do(http.MethodGet, "attempts?status=locked", nil, true)
	assert.Contains(t, body, "10.0.0.1")
	assert.Contains(t, body, "Locked until 2025-03-01 12:30:00 UTC")
	_, body = s.do(http.MethodGet, "attempts?status=unlocked", nil, true)
	assert.NotContains(t, body, "10.0.0.1")

	resp, _ := s.do(http.MethodGet, "nope", nil, true)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = s.do(http.MethodGet, "reset", nil, true)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, _ = s.do(http.MethodPost, "attempts", url.Values{}, true)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestCSRF(t *testing.T) {
	e := newEngine(t)
	fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
	s := newSite(t, e, nil)
	tok := s.token()
	reset := url.Values{"action": {"ip"}, "ip": {"10.0.0.1"}}
	with := func(tok string) url.Values {
		v := url.Values{"csrf": {tok}}
		for k, vs := range reset {
			v[k] = vs
		}
		return v
	}
	tests := []struct {
		name string
		form url.Values
		jar  bool
	}{
		{"no token", reset, true},
		{"empty token", with(""), true},
		{"forged token", with(strings.Repeat("A", len(tok))), true},
		{"token without its cookie", with(tok), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := s.client
			if !tc.jar {
				client = &http.Client{}
			}
			req, _ := http.NewRequest(http.MethodPost, s.base+"reset", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Admin", "yes")
			resp, err := client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "got %d, want 403", resp.StatusCode)
			assert.True(t, locked(t, e, "10.0.0.1", "alice"), "a refused reset must change nothing")
		})
	}
	t.Run("cross-site request with a valid token", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.base+"reset", strings.NewReader(with(tok).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Admin", "yes")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := s.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.True(t, locked(t, e, "10.0.0.1", "alice"))
	})
	t.Run("valid token", func(t *testing.T) {
		resp, _ := s.do(http.MethodPost, "reset", with(tok), true)
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.False(t, locked(t, e, "10.0.0.1", "alice"))
	})
}

func TestEscapesAttackerControlledText(t *testing.T) {
	e := newEngine(t)
	ua := `"><script>alert(2)</script>`
	fail(t, e, "10.0.0.2", xss, ua, 1)
	s := newSite(t, e, nil)
	for _, path := range []string{"", "attempts", "access-logs", "failure-logs", "attempts?q=" + url.QueryEscape(xss), "attempts?username=" + url.QueryEscape(xss)} {
		_, body := s.do(http.MethodGet, path, nil, true)
		assert.NotContains(t, body, "<img", path)
		assert.NotContains(t, body, "<script", path)
	}
	_, body := s.do(http.MethodGet, "attempts", nil, true)
	assert.Contains(t, body, "&lt;img src=x onerror=alert(1)&gt;")
	assert.Contains(t, body, "&lt;script&gt;alert(2)&lt;/script&gt;")
}

func TestJSON(t *testing.T) {
	e := newEngine(t)
	fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
	fail(t, e, "10.0.0.2", xss, "curl/8", 1)
	s := newSite(t, e, nil)

	resp, body := s.do(http.MethodGet, "attempts?format=json&sort=ip&dir=asc", nil, true)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var got struct {
		Total    int `json:"total"`
		Attempts []struct {
			IP           string     `json:"ip"`
			Username     string     `json:"username"`
			Failures     int        `json:"failures"`
			Locked       bool       `json:"locked"`
			LockedUntil  *time.Time `json:"locked_until"`
			AttemptsLeft *int       `json:"attempts_left"`
		} `json:"attempts"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	require.Equal(t, 2, got.Total)
	require.Len(t, got.Attempts, 2)
	a, b := got.Attempts[0], got.Attempts[1]
	assert.Equal(t, "10.0.0.1", a.IP)
	assert.Equal(t, 3, a.Failures)
	assert.True(t, a.Locked)
	require.NotNil(t, a.LockedUntil)
	assert.Equal(t, time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC), *a.LockedUntil)
	assert.Equal(t, xss, b.Username)
	assert.False(t, b.Locked)
	require.NotNil(t, b.AttemptsLeft)
	assert.Equal(t, 2, *b.AttemptsLeft)

	_, body = s.do(http.MethodGet, "?format=json", nil, true)
	var ov struct {
		LockedNow int `json:"locked_now"`
		TopIPs    []struct {
			Name     string `json:"name"`
			Failures int    `json:"failures"`
		} `json:"top_ips"`
		Series struct {
			Failures []int  `json:"failures"`
			Source   string `json:"source"`
		} `json:"series"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ov), body)
	assert.Equal(t, 1, ov.LockedNow)
	require.NotEmpty(t, ov.TopIPs)
	assert.Equal(t, "10.0.0.1", ov.TopIPs[0].Name)
	assert.Equal(t, 3, ov.TopIPs[0].Failures)
	assert.Equal(t, "failure_log", ov.Series.Source)
	assert.Len(t, ov.Series.Failures, 24)

	for _, path := range []string{"failure-logs?format=json", "access-logs?format=json"} {
		resp, body := s.do(http.MethodGet, path, nil, true)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.True(t, json.Valid([]byte(body)), path)
	}
}

func TestResets(t *testing.T) {
	tests := []struct {
		name      string
		params    []core.Combination
		form      url.Values
		unlocked  []string // IPs unlocked after the reset
		kept      []string // IPs still locked
		wantFlash string
	}{
		{"by IP", nil, url.Values{"action": {"ip"}, "ip": {"10.0.0.1"}}, []string{"10.0.0.1"}, []string{"10.0.0.2"}, "1 attempts removed."},
		{"by username", []core.Combination{core.ParamUsername}, url.Values{"action": {"username"}, "username": {"  BOB "}}, []string{"10.0.0.2"}, []string{"10.0.0.1"}, "1 attempts removed."},
		{"selected rows", nil, url.Values{"action": {"selected"}, "sel": {url.Values{"ip": {"10.0.0.2"}, "username": {"bob"}}.Encode()}}, []string{"10.0.0.2"}, []string{"10.0.0.1"}, "1 attempts removed."},
		{"everything, confirmed", nil, url.Values{"action": {"all"}, "confirm": {"yes"}}, []string{"10.0.0.1", "10.0.0.2"}, nil, "2 attempts removed."},
		{"an IP with nothing to reset", nil, url.Values{"action": {"ip"}, "ip": {"192.0.2.9"}}, nil, []string{"10.0.0.1", "10.0.0.2"}, "No attempts found."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, tc.params...)
			fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
			fail(t, e, "10.0.0.2", "bob", "curl/8", 3)
			s := newSite(t, e, nil)
			tc.form.Set("csrf", s.token())
			resp, _ := s.do(http.MethodPost, "reset", tc.form, true)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			loc := resp.Header.Get("Location")
			assert.True(t, strings.HasPrefix(loc, "attempts?removed="), "Location %q: want a relative attempts?removed=N", loc)
			user := map[string]string{"10.0.0.1": "alice", "10.0.0.2": "bob"}
			for _, ip := range tc.unlocked {
				assert.False(t, locked(t, e, ip, user[ip]), "%s still locked", ip)
			}
			for _, ip := range tc.kept {
				assert.True(t, locked(t, e, ip, user[ip]), "%s unlocked", ip)
			}
			_, body := s.do(http.MethodGet, loc, nil, true)
			assert.Contains(t, body, tc.wantFlash)
		})
	}
	t.Run("everything asks first", func(t *testing.T) {
		e := newEngine(t)
		fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
		s := newSite(t, e, nil)
		resp, body := s.do(http.MethodPost, "reset", url.Values{"action": {"all"}, "csrf": {s.token()}}, true)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, "Reset everything?")
		assert.Contains(t, body, `name="confirm" value="yes"`)
		assert.True(t, locked(t, e, "10.0.0.1", ""))
	})
	t.Run("bad input", func(t *testing.T) {
		e := newEngine(t)
		s := newSite(t, e, nil)
		for form, want := range map[string]string{
			"action=ip&ip=not-an-ip": "attempts?error=ip",
			"action=username":        "attempts?error=username",
			"action=selected":        "attempts?error=selected",
			"action=drop-tables":     "attempts?error=action",
		} {
			v, _ := url.ParseQuery(form)
			v.Set("csrf", s.token())
			resp, _ := s.do(http.MethodPost, "reset", v, true)
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, form)
			assert.Equal(t, want, resp.Header.Get("Location"), form)
		}
	})
}

func TestPaging(t *testing.T) {
	e := newEngine(t)
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		fail(t, e, ip, "", "curl/8", 1)
	}
	s := newSite(t, e, nil) // PageSize 2
	_, body := s.do(http.MethodGet, "attempts?sort=ip&dir=asc", nil, true)
	assert.Contains(t, body, "10.0.0.1")
	assert.Contains(t, body, "10.0.0.2")
	assert.NotContains(t, body, ">10.0.0.3<")
	assert.Contains(t, body, "1–2 of 3")
	assert.Contains(t, body, `href="attempts?dir=asc&amp;page=2&amp;sort=ip"`)
	_, body = s.do(http.MethodGet, "attempts?sort=ip&dir=asc&page=2", nil, true)
	assert.Contains(t, body, ">10.0.0.3<")
	assert.Contains(t, body, "3–3 of 3")
}

func TestWorksUnstripped(t *testing.T) {
	e := newEngine(t)
	fail(t, e, "10.0.0.1", "alice", "curl/8", 3)
	h := admin.Handler(e, admin.Options{Authorize: func(*http.Request) bool { return true }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/some/prefix/attempts", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "10.0.0.1")
}

// brokenStore keeps records in memory but cannot list them.
type brokenStore struct{ *core.MemoryStore }

func (brokenStore) Attempts(context.Context, core.ListQuery) ([]core.AttemptRecord, int, error) {
	return nil, 0, errors.New("disk on fire <b>")
}

// countersOnly keeps counters but no records.
type countersOnly struct{ core.Store }

func TestStoreTrouble(t *testing.T) {
	for name, st := range map[string]core.Store{
		"listing fails":     brokenStore{core.NewMemoryStore(core.MemoryOptions{})},
		"no records at all": countersOnly{core.NewMemoryStore(core.MemoryOptions{})},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := core.DefaultConfig()
			cfg.Store = st
			cfg.Logger = slog.New(slog.DiscardHandler)
			e, err := core.New(cfg)
			require.NoError(t, err)
			s := newSite(t, e, nil)
			resp, body := s.do(http.MethodGet, "attempts", nil, true)
			assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, resp.StatusCode)
			assert.NotContains(t, body, "<b>")
			resp, body = s.do(http.MethodGet, "attempts?format=json", nil, true)
			assert.GreaterOrEqual(t, resp.StatusCode, 500)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.True(t, json.Valid([]byte(body)), body)
			resp, _ = s.do(http.MethodGet, "", nil, true)
			assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, resp.StatusCode)
		})
	}
}

// TestShowsInvisibleCharacters: control and format characters in
// usernames, user agents, paths and form data (bidi overrides that reverse
// what follows, zero-width spaces, terminal escapes, NUL) are spelt out on
// every page, as the CLI spells them; the JSON keeps the text as it is.
func TestShowsInvisibleCharacters(t *testing.T) {
	e := newEngine(t)
	rs, _ := e.Records()
	ctx := context.Background()
	now := e.Now()
	// Written as a store shared with another app, or an app whose
	// UsernameFunc keeps them, could write them: the engine's own canonical
	// usernames have none of these.
	user := "admin\u202egnp.exe\u200b\x1b[31m\x00"
	ua := "Mozilla\u202e\u200b\x1b]0;pwned\x07\x00"
	path := "/login\u202e"
	rec := core.AttemptRecord{Username: user, IP: "10.0.0.7", UserAgent: ua, Path: path,
		GetData: "next=\u202e/admin\n", PostData: "username=" + user + "\npassword=********\n", LastAttempt: now}
	require.NoError(t, rs.RecordFailure(ctx, rec, true, false, 0))
	require.NoError(t, rs.RecordLogin(ctx, core.AccessLog{Username: user, IP: "10.0.0.7", UserAgent: ua, Path: path, LoginTime: now}))
	s := newSite(t, e, nil)

	// Form fields keep the values they send back (the filter, the search),
	// as they are: they are not text on the page.
	inputs := regexp.MustCompile(`<input [^>]*>`)
	for _, path := range []string{"", "attempts", "access-logs", "failure-logs", "attempts?username=" + url.QueryEscape(user) + "&q=%E2%80%AE"} {
		resp, body := s.do(http.MethodGet, path, nil, true)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		text := inputs.ReplaceAllString(body, "")
		for _, r := range []string{"\u202e", "\u200b", "\x1b", "\x00", "\x07"} {
			assert.False(t, strings.Contains(text, r), "/%s shows %q raw", path, r)
		}
		assert.True(t, strings.Contains(body, `admin\u202egnp.exe\u200b\x1b[31m\x00`), "/%s: the username spelt out", path)
		if path != "" {
			assert.True(t, strings.Contains(body, `Mozilla\u202e\u200b\x1b]0;pwned\a\x00`), "/%s: the user agent spelt out", path)
			assert.True(t, strings.Contains(body, `/login\u202e`), "/%s: the path spelt out", path)
		}
	}
	_, body := s.do(http.MethodGet, "attempts", nil, true)
	assert.Contains(t, body, "next=\\u202e/admin\n", "GET data: spelt out, one line each")
	assert.Contains(t, body, "password=********\n", "POST data: one line each")
	assert.Contains(t, body, `href="attempts?username=admin%e2%80%aegnp.exe%e2%80%8b%1b%5b31m%00"`, "links keep the value to filter by")

	_, body = s.do(http.MethodGet, "attempts?format=json", nil, true)
	var got struct {
		Attempts []struct {
			Username  string `json:"username"`
			UserAgent string `json:"user_agent"`
		} `json:"attempts"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	require.Len(t, got.Attempts, 1)
	assert.Equal(t, core.StoreEscape(user), got.Attempts[0].Username, "JSON keeps the text as stored")
	assert.Equal(t, core.StoreEscape(ua), got.Attempts[0].UserAgent, "JSON keeps the text as stored")
}
