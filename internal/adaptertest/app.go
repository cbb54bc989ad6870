// Package adaptertest is the one scenario table that every adapter runs
// through its real router: http.ServeMux, gin.New(), echo.New()
// and fiber's app.Test. Each adapter's test supplies a Harness that builds
// a small app in its framework's idiom; the login logic of that app lives
// here (App), so that the four apps answer alike and only the adapters
// differ.
package adaptertest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/goaxes/axes/core"
)

// Style is how a harness wraps the login route POST /login.
type Style int

const (
	// Middleware: the adapter's Middleware on the whole router, with Paths
	// {"/login"}; the login handler (App.ByStatus) answers by status.
	Middleware Style = iota
	// Dispatch: Dispatch around the login handler App.ByStatus.
	Dispatch
	// FormInvalid: Dispatch around a third-party-style login handler
	// (App.ThirdParty) whose failure path is its own function, wrapped by
	// FormInvalid (the analog of patching allauth's LoginView).
	FormInvalid
	// Report: Middleware, and a JSON login handler (App.JSON) that reports
	// with ReportFailure and ReportSuccess (django-axes' custom login).
	Report
	// ReportBare: App.JSON without Middleware or Dispatch: the helpers
	// record, nothing refuses.
	ReportBare
)

var styleNames = [...]string{"middleware", "dispatch", "form_invalid", "report", "report_bare"}

func (s Style) String() string { return styleNames[s] }

// JSON reports whether the style's login handler reads JSON.
func (s Style) JSON() bool { return s == Report || s == ReportBare }

// Setup is what a Harness builds an app from. The app serves:
//
//	GET  /login   App.Form (behind Middleware in the Middleware and Report styles)
//	POST /login   the style's login handler, wrapped as the style says
//	POST /other   a handler that always answers 401 (not a login route)
//	POST /logout  ReportLogout(engine, ctx, "alice"), then 303
type Setup struct {
	Engine *core.Engine
	Style  Style
	App    *App
	// Methods and Outcome are Middleware's options (nil: the defaults).
	Methods []string
	Outcome func(status int) core.Result
}

// Reply is what a login handler answers; a harness writes it in its
// framework's idiom.
type Reply struct {
	Status int
	Header http.Header
	Body   string
}

// Reporter is the adapter's helpers bound to one request.
type Reporter struct {
	Failure  func(username string) core.Decision
	Success  func(username string)
	Decision func() core.Decision
}

// App is the test app's login logic. It counts the calls of its handlers,
// so that a scenario can tell whether the handler ran. Safe for concurrent
// use.
type App struct {
	// UserField and PassField are the form and JSON field names.
	UserField, PassField string
	answer               func(user, pass string) int
	calls                atomic.Int64
}

// Calls is how many times a handler ran.
func (a *App) Calls() int64 { return a.calls.Load() }

// check is the credential check: the status to answer.
func (a *App) check(user, pass string) int {
	if a.answer != nil {
		return a.answer(user, pass)
	}
	return DefaultAnswer(user, pass)
}

// DefaultAnswer: 400 for a missing field, 200 for alice/secret, else 401.
func DefaultAnswer(user, pass string) int {
	switch {
	case user == "" || pass == "":
		return http.StatusBadRequest
	case user == "alice" && pass == "secret":
		return http.StatusOK
	}
	return http.StatusUnauthorized
}

// Form is GET /login.
func (a *App) Form() Reply {
	a.calls.Add(1)
	return Reply{Status: http.StatusOK, Body: "login form"}
}

// ByStatus is the login handler of the Middleware and Dispatch styles: it
// says nothing to axes; the status tells. X-Attempts-Left is read with
// DecisionFrom before the attempt's outcome is known.
func (a *App) ByStatus(user, pass string, rep Reporter) Reply {
	a.calls.Add(1)
	st := a.check(user, pass)
	h := http.Header{"X-Attempts-Left": {strconv.Itoa(rep.Decision().AttemptsLeft())}}
	return Reply{Status: st, Header: h, Body: "status " + strconv.Itoa(st)}
}

// ThirdParty is a third-party-style login handler: on bad credentials it
// calls its failure path (nil Reply); otherwise it answers by status.
func (a *App) ThirdParty(user, pass string) (Reply, bool) {
	a.calls.Add(1)
	st := a.check(user, pass)
	if st == http.StatusUnauthorized {
		return Reply{}, false
	}
	return Reply{Status: st, Body: "status " + strconv.Itoa(st)}, true
}

// Invalid is the third-party handler's failure path (wrapped by
// FormInvalid): it re-renders the form with 401.
func (a *App) Invalid(rep Reporter) Reply {
	h := http.Header{"X-Attempts-Left": {strconv.Itoa(rep.Decision().AttemptsLeft())}}
	return Reply{Status: http.StatusUnauthorized, Header: h, Body: "invalid form"}
}

// JSON is django-axes' documented custom JSON login: bad JSON or a missing
// field is a reported failure (400), bad credentials a reported failure
// (403), good ones a reported success (200).
func (a *App) JSON(body []byte, rep Reporter) Reply {
	a.calls.Add(1)
	var m map[string]any
	err := json.Unmarshal(body, &m)
	user, _ := m[a.UserField].(string)
	pass, _ := m[a.PassField].(string)
	h := http.Header{"Content-Type": {"application/json"}}
	if err != nil || user == "" || pass == "" {
		d := rep.Failure(user)
		h.Set("X-Outcome", d.Outcome.String())
		return Reply{Status: http.StatusBadRequest, Header: h, Body: `{"error":"username and password required"}`}
	}
	if st := a.check(user, pass); st < 400 {
		rep.Success(user)
		return Reply{Status: http.StatusOK, Header: h, Body: `{"message":"success!"}`}
	}
	d := rep.Failure(user)
	h.Set("X-Outcome", d.Outcome.String())
	h.Set("X-Attempts-Left", strconv.Itoa(d.AttemptsLeft()))
	return Reply{Status: http.StatusForbidden, Header: h, Body: `{"error":"invalid credentials"}`}
}
