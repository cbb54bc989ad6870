package adaptertest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// Harness builds the app that s describes on the adapter's real router and
// returns a function that serves one request through it. The request's
// RemoteAddr is the client's socket address; a harness whose router cannot
// take it from the request (fiber's app.Test) must carry it across.
type Harness func(t *testing.T, s Setup) func(*http.Request) *http.Response

// Failed stands for the status of a login handler's failure in the style
// at hand: 401 for the form styles, 403 for the JSON ones.
const Failed = -1

// EmptyAddr as Step.From sends a request with an empty RemoteAddr.
const EmptyAddr = "<empty>"

// Step is one request of a scenario and what must come back.
type Step struct {
	// Advance moves the engine's clock before the request.
	Advance time.Duration
	// From is the client's RemoteAddr. Default: "10.0.0.1:40000".
	From string
	// Method and Path. Default: POST /login.
	Method, Path string
	// User and Pass are sent as a form, or as JSON in the JSON styles.
	User, Pass string
	// Body, when set, is sent as is (with ContentType) instead.
	Body, ContentType string
	// Header adds request headers; ExtraContentType adds a second
	// Content-Type header.
	Header           map[string]string
	ExtraContentType string
	// BodyFault makes the body's read fail after its bytes (a client that
	// goes away); harnesses that read the whole body before the router
	// (fiber's) skip such steps' scenarios.
	BodyFault bool

	// Status is the status wanted (Failed: the style's failure status; 0:
	// any but Forbid). AnyOf, when set, lists the statuses wanted instead.
	Status int
	AnyOf  []int
	// Forbid lists statuses that must not come back (a login).
	Forbid []int
	// Ran says whether the app's handler must have run.
	Ran bool
	// WantHeader maps header names to the value wanted; "" wants none.
	WantHeader map[string]string
	// WantBody must be contained in the body.
	WantBody string
}

// Scenario is one row of the table.
type Scenario struct {
	Name string
	// Styles it runs in. Default: Middleware, Dispatch, FormInvalid, Report.
	Styles []Style
	// Config changes the engine's configuration (DefaultConfig with a test
	// clock at first).
	Config func(*core.Config)
	// Answer replaces the app's credential check (DefaultAnswer).
	Answer func(user, pass string) int
	// Methods and Outcome go to Setup.
	Methods []string
	Outcome func(status int) core.Result
	// AppUserField is the field the app reads the username from, when not
	// the guard's (a handler that reads the body its own way).
	AppUserField string
	Steps        []Step
}

// Clock is a test clock moved by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now reads the clock.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Add moves the clock.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

var defaultStyles = []Style{Middleware, Dispatch, FormInvalid, Report}

// faultyBody fails after its bytes, as the body of a client that went
// away does.
type faultyBody struct{ r io.Reader }

func (b *faultyBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// WholeBody is the option of Run for a harness whose framework reads the
// whole body before any handler (fiber): scenarios whose body read fails
// are skipped, the framework answers them itself.
const WholeBody = "whole body"

// Run runs every scenario in every style through the harness.
func Run(t *testing.T, h Harness, options ...string) {
	whole := slices.Contains(options, WholeBody)
	for _, sc := range Scenarios() {
		if whole && slices.ContainsFunc(sc.Steps, func(s Step) bool { return s.BodyFault }) {
			continue
		}
		styles := sc.Styles
		if styles == nil {
			styles = defaultStyles
		}
		for _, style := range styles {
			t.Run(sc.Name+"/"+style.String(), func(t *testing.T) { run(t, h, sc, style) })
		}
	}
}

func run(t *testing.T, h Harness, sc Scenario, style Style) {
	clock := &Clock{now: time.Unix(1_700_000_000, 0).UTC()}
	cfg := core.DefaultConfig()
	cfg.Clock = clock.Now
	cfg.Logger = slog.New(slog.DiscardHandler)
	if sc.Config != nil {
		sc.Config(&cfg)
	}
	e, err := core.New(cfg)
	require.NoError(t, err)
	app := &App{UserField: e.Config().UsernameFormField, PassField: e.Config().PasswordFormField, answer: sc.Answer}
	if sc.AppUserField != "" {
		app.UserField = sc.AppUserField
	}
	serve := h(t, Setup{Engine: e, Style: style, App: app, Methods: sc.Methods, Outcome: sc.Outcome})
	for i, st := range sc.Steps {
		clock.Add(st.Advance)
		before := app.Calls()
		resp := serve(st.request(style, app))
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		_ = resp.Body.Close()
		want := st.Status
		if want == Failed {
			want = http.StatusUnauthorized
			if style.JSON() {
				want = http.StatusForbidden
			}
		}
		at := fmt.Sprintf("step %d (%s %s from %q, %s/%s)", i+1, st.Method, st.Path, st.From, st.User, st.Pass)
		switch {
		case st.AnyOf != nil:
			assert.Contains(t, st.AnyOf, resp.StatusCode, "%s: status (body %q)", at, body)
		case want != 0:
			assert.Equal(t, want, resp.StatusCode, "%s: status (body %q)", at, body)
		}
		assert.NotContains(t, st.Forbid, resp.StatusCode, "%s: a forbidden status (body %q)", at, body)
		assert.Equal(t, st.Ran, app.Calls() > before, "%s: did the handler run", at)
		for k, v := range st.WantHeader {
			assert.Equal(t, v, resp.Header.Get(k), "%s: header %s", at, k)
		}
		if st.WantBody != "" {
			assert.Contains(t, string(body), st.WantBody, "%s: body", at)
		}
	}
}

func (st *Step) request(style Style, app *App) *http.Request {
	if st.Method == "" {
		st.Method = http.MethodPost
	}
	if st.Path == "" {
		st.Path = "/login"
	}
	body, ct := st.Body, st.ContentType
	if body == "" && st.Method == http.MethodPost && (st.User != "" || st.Pass != "") {
		if style.JSON() {
			m := map[string]string{}
			if st.User != "" {
				m[app.UserField] = st.User
			}
			if st.Pass != "" {
				m[app.PassField] = st.Pass
			}
			b, _ := json.Marshal(m)
			body, ct = string(b), "application/json"
		} else {
			v := url.Values{}
			if st.User != "" {
				v.Set(app.UserField, st.User)
			}
			if st.Pass != "" {
				v.Set(app.PassField, st.Pass)
			}
			body, ct = v.Encode(), "application/x-www-form-urlencoded"
		}
	}
	var rd io.Reader = strings.NewReader(body)
	if st.BodyFault {
		rd = &faultyBody{strings.NewReader(body)}
	}
	r := httptest.NewRequest(st.Method, st.Path, rd)
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if st.ExtraContentType != "" {
		r.Header.Add("Content-Type", st.ExtraContentType)
	}
	for k, v := range st.Header {
		r.Header.Set(k, v)
	}
	switch st.From {
	case "":
		st.From = "10.0.0.1:40000"
		r.RemoteAddr = st.From
	case EmptyAddr:
		r.RemoteAddr = ""
	default:
		r.RemoteAddr = st.From
	}
	return r
}
