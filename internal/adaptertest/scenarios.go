package adaptertest

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/goaxes/axes/core"
)

const (
	peer1 = "10.0.0.1:40000"
	peer2 = "10.0.0.2:40000"
)

// bad, good and refused are the usual steps of alice from peer1.
func bad() Step  { return Step{User: "alice", Pass: "wrong", Status: Failed, Ran: true} }
func good() Step { return Step{User: "alice", Pass: "secret", Status: http.StatusOK, Ran: true} }
func refused() Step {
	return Step{User: "alice", Pass: "secret", Status: http.StatusTooManyRequests}
}
func from(s Step, addr string) Step { s.From = addr; return s }
func with(s Step, f func(*Step)) Step {
	f(&s)
	return s
}

// jsonStep posts a JSON body.
func jsonStep(body string, status int, ran bool) Step {
	return Step{Body: body, ContentType: "application/json", Status: status, Ran: ran}
}

// lockedOut: the limit-th failure is answered with the lockout.
func lockedOut() Step { s := bad(); s.Status = http.StatusTooManyRequests; return s }

// Scenarios is the table every adapter runs: the scenarios below, then
// the credential-shape table (shapes.go).
func Scenarios() []Scenario { return append(scenarios(), shapeScenarios()...) }

func scenarios() []Scenario {
	return []Scenario{
		{Name: "limit reached on the limit-th failure; right password refused while locked", Steps: []Step{
			bad(), bad(),
			with(lockedOut(), func(s *Step) { s.WantHeader = map[string]string{"Retry-After": ""} }),
			refused(), refused(),
		}},
		{Name: "each client its own counter", Steps: []Step{
			bad(), bad(), lockedOut(),
			from(good(), peer2), from(refused(), peer1),
		}},
		{Name: "a success leaves the count", Steps: []Step{
			bad(), bad(), good(), lockedOut(),
		}},
		{Name: "reset on success", Config: func(c *core.Config) { c.ResetOnSuccess = true }, Steps: []Step{
			bad(), bad(), good(), bad(), bad(), lockedOut(),
		}},
		{Name: "missing field is not counted", Steps: []Step{
			{User: "alice", Status: http.StatusBadRequest, Ran: true},
			bad(), bad(), lockedOut(),
		}, Styles: []Style{Middleware, Dispatch, FormInvalid}},
		{Name: "cool-off expiry and Retry-After", Config: func(c *core.Config) { c.CoolOff = 30 * time.Minute }, Steps: []Step{
			bad(), bad(),
			with(lockedOut(), func(s *Step) { s.WantHeader = map[string]string{"Retry-After": "1800"} }),
			with(refused(), func(s *Step) {
				s.Advance = 10 * time.Minute
				s.WantHeader = map[string]string{"Retry-After": "1800"} // refused attempts extend the cool-off
			}),
			with(good(), func(s *Step) { s.Advance = 30*time.Minute + time.Second }),
		}},
		{Name: "cool-off not extended during lockout", Config: func(c *core.Config) {
			c.CoolOff = 30 * time.Minute
			c.ResetCoolOffOnFailureDuringLockout = false
		}, Steps: []Step{
			bad(), bad(), lockedOut(),
			with(refused(), func(s *Step) { s.Advance = 10 * time.Minute; s.WantHeader = map[string]string{"Retry-After": "1200"} }),
			with(good(), func(s *Step) { s.Advance = 20*time.Minute + time.Second }),
		}},
		{Name: "plain text lockout", Styles: []Style{Middleware, Dispatch, FormInvalid}, Steps: []Step{
			bad(), bad(),
			with(lockedOut(), func(s *Step) {
				s.WantHeader = map[string]string{"Content-Type": "text/plain; charset=utf-8"}
				s.WantBody = "Account locked"
			}),
		}},
		{Name: "JSON lockout", Config: func(c *core.Config) { c.CoolOff = time.Hour }, Steps: []Step{
			bad(), bad(),
			with(lockedOut(), func(s *Step) {
				s.Header = map[string]string{"Accept": "application/json"}
				s.WantHeader = map[string]string{"Content-Type": "application/json", "Retry-After": "3600"}
				s.WantBody = `"failure_limit":3`
			}),
			with(refused(), func(s *Step) {
				s.Header = map[string]string{"X-Requested-With": "XMLHttpRequest"}
				s.WantHeader = map[string]string{"Content-Type": "application/json"}
				s.WantBody = `"cooloff_time":"PT1H"`
			}),
		}},
		{Name: "JSON lockout byte for byte, CORS headers and Content-Length", Config: func(c *core.Config) {
			c.CoolOff = time.Hour
			c.AllowedCORSOrigins = "https://app.example"
		}, Steps: []Step{
			bad(), bad(),
			with(lockedOut(), func(s *Step) {
				s.Header = map[string]string{"Accept": "application/json"}
				s.WantHeader = map[string]string{"Content-Type": "application/json", "Retry-After": "3600",
					"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "POST, OPTIONS",
					"Access-Control-Allow-Headers": "Origin, Content-Type, Accept, Authorization, x-requested-with",
					"Content-Length":               "97"}
				s.WantBody = `{"failure_limit":3,"failure_count":3,"username":"alice","cooloff_time":"PT1H","retry_after":3600}`
			}),
			with(refused(), func(s *Step) {
				s.Advance = 15 * time.Minute
				s.Header = map[string]string{"Accept": "Application/JSON"}
				s.WantHeader = map[string]string{"Retry-After": "3600", "Content-Length": "97"}
				s.WantBody = `{"failure_limit":3,"failure_count":4,"username":"alice","cooloff_time":"PT1H","retry_after":3600}`
			}),
		}},
		{Name: "refusals in a row each tell their own client", Styles: []Style{Middleware, Dispatch, FormInvalid}, Config: func(c *core.Config) {
			c.CoolOff = time.Hour
			c.ResetCoolOffOnFailureDuringLockout = false
		}, Steps: []Step{
			bad(), bad(), lockedOut(),
			from(with(bad(), func(s *Step) { s.User = "bob" }), peer2),
			from(with(bad(), func(s *Step) { s.User = "bob" }), peer2),
			from(with(lockedOut(), func(s *Step) { s.User = "bob" }), peer2),
			with(refused(), func(s *Step) {
				s.Advance = 20 * time.Minute
				s.Header = map[string]string{"Accept": "application/json"}
				s.WantHeader = map[string]string{"Retry-After": "2400", "Content-Type": "application/json"}
				s.WantBody = `{"failure_limit":3,"failure_count":3,"username":"alice","cooloff_time":"PT1H","retry_after":2400}`
			}),
			from(with(refused(), func(s *Step) {
				s.User = "bob"
				s.Header = map[string]string{"Accept": "application/json"}
				s.WantBody = `{"failure_limit":3,"failure_count":3,"username":"bob","cooloff_time":"PT1H","retry_after":2400}`
			}), peer2),
			with(refused(), func(s *Step) {
				s.Advance = 10 * time.Minute
				s.WantHeader = map[string]string{"Retry-After": "1800", "Content-Type": "text/plain; charset=utf-8", "Content-Length": "64"}
				s.WantBody = "Account locked: too many login attempts. Please try again later."
			}),
			from(with(refused(), func(s *Step) {
				s.User = "bob"
				s.WantHeader = map[string]string{"Retry-After": "1800", "Content-Type": "text/plain; charset=utf-8"}
			}), peer2),
		}},
		{Name: "HTML lockout", Styles: []Style{Middleware, Dispatch, FormInvalid}, Config: func(c *core.Config) {
			c.LockoutTemplate = template.Must(template.New("lockout").Parse(`<h1>Locked after {{.FailureCount}} failures</h1>`))
		}, Steps: []Step{
			bad(), bad(),
			with(lockedOut(), func(s *Step) {
				s.WantHeader = map[string]string{"Content-Type": "text/html; charset=utf-8"}
				s.WantBody = "<h1>Locked after 3 failures</h1>"
			}),
		}},
		{Name: "redirect lockout", Styles: []Style{Middleware, Dispatch, FormInvalid}, Config: func(c *core.Config) { c.LockoutURL = "/locked" }, Steps: []Step{
			bad(), bad(),
			with(lockedOut(), func(s *Step) {
				s.Status = http.StatusFound
				s.WantHeader = map[string]string{"Location": "/locked?username=alice"}
			}),
			with(refused(), func(s *Step) { s.Status = http.StatusFound }),
		}},
		{Name: "custom status code", Config: func(c *core.Config) { c.HTTPResponseCode = http.StatusForbidden }, Steps: []Step{
			bad(), bad(),
			with(lockedOut(), func(s *Step) { s.Status = http.StatusForbidden }),
			with(refused(), func(s *Step) { s.Status = http.StatusForbidden }),
		}},
		{Name: "attempts left before the outcome", Styles: []Style{Middleware, Dispatch}, Steps: []Step{
			with(bad(), func(s *Step) { s.WantHeader = map[string]string{"X-Attempts-Left": "3"} }),
			with(bad(), func(s *Step) { s.WantHeader = map[string]string{"X-Attempts-Left": "2"} }),
		}},
		{Name: "attempts left after the reported failure", Styles: []Style{FormInvalid, Report}, Steps: []Step{
			with(bad(), func(s *Step) { s.WantHeader = map[string]string{"X-Attempts-Left": "2"} }),
			with(bad(), func(s *Step) { s.WantHeader = map[string]string{"X-Attempts-Left": "1"} }),
			lockedOut(),
		}},
		{Name: "explicit reports without middleware record, and refuse nothing", Styles: []Style{ReportBare}, Steps: []Step{
			with(bad(), func(s *Step) { s.WantHeader = map[string]string{"X-Outcome": "allowed", "X-Attempts-Left": "2"} }),
			bad(),
			with(bad(), func(s *Step) { s.WantHeader = map[string]string{"X-Outcome": "locked"} }),
			with(bad(), func(s *Step) { s.WantHeader = map[string]string{"X-Outcome": "locked"} }),
		}},
		{Name: "bad JSON is a reported failure", Styles: []Style{Report}, Steps: []Step{
			{Body: "{not json", ContentType: "application/json", Status: http.StatusBadRequest, Ran: true},
			{Body: `{"username":"alice"}`, ContentType: "application/json", Status: http.StatusBadRequest, Ran: true},
			{Body: `[1,2,3]`, ContentType: "application/json", Status: http.StatusTooManyRequests, Ran: true,
				WantHeader: map[string]string{"Content-Type": "application/json"}},
			refused(),
		}},
		{Name: "status outcomes: 5xx and 400 are neither, 403 fails, 3xx succeeds", Styles: []Style{Middleware, Dispatch},
			Answer: func(user, pass string) int {
				switch pass {
				case "boom":
					return http.StatusInternalServerError
				case "forbidden":
					return http.StatusForbidden
				case "redirect":
					return http.StatusSeeOther
				}
				return DefaultAnswer(user, pass)
			}, Config: func(c *core.Config) { c.ResetOnSuccess = true }, Steps: []Step{
				{User: "alice", Pass: "boom", Status: 500, Ran: true}, {User: "alice", Pass: "boom", Status: 500, Ran: true},
				{User: "alice", Pass: "boom", Status: 500, Ran: true}, {User: "alice", Status: 400, Ran: true},
				bad(), {User: "alice", Pass: "forbidden", Status: 403, Ran: true},
				{User: "alice", Pass: "redirect", Status: 303, Ran: true}, // resets
				bad(), bad(), lockedOut(),
			}},
		{Name: "custom outcome: 400 counts as a failure", Styles: []Style{Middleware},
			Outcome: func(status int) core.Result {
				if status == http.StatusBadRequest {
					return core.ResultFailure
				}
				return core.ResultFromStatus(status)
			}, Steps: []Step{
				{User: "alice", Status: 400, Ran: true}, {User: "alice", Status: 400, Ran: true},
				{User: "alice", Status: 429, Ran: true}, refused(),
			}},
		{Name: "only the configured paths are login routes", Styles: []Style{Middleware}, Steps: []Step{
			{Path: "/other", Status: 401, Ran: false}, {Path: "/other", Status: 401, Ran: false},
			{Path: "/other", Status: 401, Ran: false}, {Path: "/other", Status: 401, Ran: false},
			bad(), bad(), lockedOut(),
		}},
		{Name: "GET of the login form is no attempt", Steps: []Step{
			bad(), bad(), lockedOut(),
			{Method: http.MethodGet, Status: http.StatusOK, Ran: true, WantBody: "login form"},
		}},
		{Name: "GET as a login method is refused while locked", Styles: []Style{Middleware},
			Methods: []string{http.MethodGet, http.MethodPost}, Steps: []Step{
				bad(), bad(), lockedOut(),
				{Method: http.MethodGet, Status: http.StatusTooManyRequests},
			}},
		{Name: "never lockout GET", Styles: []Style{Middleware}, Methods: []string{http.MethodGet, http.MethodPost},
			Config: func(c *core.Config) { c.NeverLockoutGet = true }, Steps: []Step{
				bad(), bad(), lockedOut(),
				{Method: http.MethodGet, Status: http.StatusOK, Ran: true},
				refused(),
			}},
		{Name: "whitelist never locks out", Config: func(c *core.Config) {
			c.IPWhitelist = []string{"10.0.0.0/24"}
			c.NeverLockoutWhitelist = true
		}, Steps: []Step{bad(), bad(), bad(), bad(), good(), from(good(), "10.0.1.1:1")}},
		{Name: "only whitelist refuses the rest", Config: func(c *core.Config) {
			c.IPWhitelist = []string{"10.0.0.1"}
			c.OnlyWhitelist = true
		}, Steps: []Step{good(), from(refused(), peer2)}},
		{Name: "blacklist always refuses", Config: func(c *core.Config) { c.IPBlacklist = []string{"10.0.0.2"} }, Steps: []Step{
			from(refused(), peer2), good(),
		}},
		{Name: "username field login", Config: func(c *core.Config) {
			c.UsernameFormField = "login"
			c.LockoutParameters = []core.Combination{core.ParamUsername}
		}, Steps: []Step{
			bad(), from(bad(), peer2), from(lockedOut(), "10.0.0.3:1"),
			from(refused(), "10.0.0.4:1"),
			{User: "bob", Pass: "wrong", Status: Failed, Ran: true},
		}},
		{Name: "username spellings share one counter", Config: func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername}
		}, Steps: []Step{
			bad(), from(with(bad(), func(s *Step) { s.User = "ALICE" }), peer2),
			from(with(lockedOut(), func(s *Step) { s.User = " Alice " }), "10.0.0.3:1"),
		}},
		{Name: "malformed client addresses are refused", Steps: []Step{
			{From: "garbage", User: "alice", Pass: "secret", Status: http.StatusForbidden},
			{From: EmptyAddr, User: "alice", Pass: "secret", Status: http.StatusForbidden},
			{From: "999.1.1.1:80", User: "alice", Pass: "secret", Status: http.StatusForbidden},
			good(),
		}},
		{Name: "malformed form bodies reach the handler", Styles: []Style{Middleware, Dispatch, FormInvalid}, Steps: []Step{
			{Body: "%zz%%&&=", ContentType: "application/x-www-form-urlencoded", Status: 400, Ran: true},
			{Body: "username=alice&password=secret", ContentType: "multipart/form-data; boundary=", Status: 400, Ran: true},
			{Body: strings.Repeat("\x00\xff", 100), ContentType: "application/x-www-form-urlencoded", Status: 400, Ran: true},
			good(),
		}},
		{Name: "oversized form body: no username for axes, the whole body for the handler", Styles: []Style{Middleware, Dispatch, FormInvalid},
			Config: func(c *core.Config) { c.MaxBodyBytes = 64 }, Steps: []Step{
				{Body: "username=alice&pad=" + strings.Repeat("x", 200) + "&password=secret",
					ContentType: "application/x-www-form-urlencoded", Status: http.StatusOK, Ran: true},
			}},
		{Name: "oversized JSON body under username parameters: refused before the handler, counted by IP", Styles: []Style{Report},
			Config: func(c *core.Config) {
				c.MaxBodyBytes = 64
				c.LockoutParameters = []core.Combination{core.ParamUsername}
			}, Steps: []Step{
				{Body: `{"username":"alice","pad":"` + strings.Repeat("x", 200) + `","password":"wrong"}`,
					ContentType: "application/json", Status: http.StatusBadRequest, WantBody: "longer than the read cap"},
				{Body: `{"username":"alice","pad":"` + strings.Repeat("x", 200) + `","password":"secret"}`,
					ContentType: "application/json", Status: http.StatusBadRequest},
				{Body: `{"username":"alice","pad":"` + strings.Repeat("x", 200) + `","password":"wrong"}`,
					ContentType: "application/json", Status: http.StatusTooManyRequests},
				from(good(), peer2), // alice's own count never moved
			}},
		{Name: "reports for a username the guard did not read are checked and counted", Styles: []Style{Report},
			Config:       func(c *core.Config) { c.LockoutParameters = []core.Combination{core.ParamUsername} },
			AppUserField: "email", // the guard reads "username", the app "email"
			Steps: []Step{
				jsonStep(`{"username":"alice","email":"alice","password":"wrong"}`, Failed, true),
				jsonStep(`{"username":"alice","email":"alice","password":"wrong"}`, Failed, true),
				jsonStep(`{"username":"alice","email":"alice","password":"wrong"}`, http.StatusTooManyRequests, true),
				// The guard counts bob; the app checks alice's right password
				// and reports her success: she is locked, so no login.
				jsonStep(`{"username":"bob","email":"alice","password":"secret"}`, http.StatusTooManyRequests, true),
				// The app reports carol's failures: they count for carol.
				jsonStep(`{"username":"bob","email":"carol","password":"wrong"}`, Failed, true),
				jsonStep(`{"username":"bob","email":"carol","password":"wrong"}`, Failed, true),
				jsonStep(`{"username":"bob","email":"carol","password":"wrong"}`, http.StatusTooManyRequests, true),
				jsonStep(`{"username":"carol","email":"carol","password":"wrong"}`, http.StatusTooManyRequests, false),
				// bob's own count never moved.
				jsonStep(`{"username":"bob","email":"bob","password":"wrong"}`, Failed, true),
			}},
		{Name: "a client that goes away is no store fault", Config: func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername}
			c.FailOpen = true
		}, Steps: []Step{
			bad(), bad(), lockedOut(),
			{User: "alice", Pass: "secret", BodyFault: true, Status: http.StatusBadRequest},
			{User: "alice", Pass: "secret", BodyFault: true, Status: http.StatusBadRequest, From: peer2},
			refused(),
		}},
		{Name: "a client that goes away under ip_address: 400, nothing counted", Config: func(c *core.Config) {
			c.FailOpen = true
		}, Steps: []Step{
			{User: "alice", Pass: "wrong", BodyFault: true, Status: http.StatusBadRequest},
			{User: "alice", Pass: "wrong", BodyFault: true, Status: http.StatusBadRequest},
			{User: "alice", Pass: "wrong", BodyFault: true, Status: http.StatusBadRequest},
			bad(), bad(), lockedOut(),
		}},
		{Name: "store outage fails closed with 503", Config: func(c *core.Config) { c.Store = downStore{} }, Steps: []Step{
			{User: "alice", Pass: "secret", Status: http.StatusServiceUnavailable, WantHeader: map[string]string{"Retry-After": "2"}},
		}},
		{Name: "store outage fails open when configured", Config: func(c *core.Config) {
			c.Store = downStore{}
			c.FailOpen = true
		}, Steps: []Step{good(), bad(), bad(), bad(), good()}},
		{Name: "logout is no login attempt", Styles: []Style{Middleware, Dispatch}, Steps: []Step{
			bad(), bad(),
			{Path: "/logout", Status: http.StatusSeeOther},
			lockedOut(),
		}},
	}
}

// downStore is a store whose backend is down.
type downStore struct{}

var errDown = errors.New("adaptertest: store down")

func (downStore) Hit(context.Context, []core.Key, time.Time, core.Policy, []core.Counter) (bool, error) {
	return false, errDown
}
func (downStore) Release(context.Context, []core.Key, time.Time, core.Policy) error { return errDown }
func (downStore) Peek(context.Context, []core.Key, time.Time, core.Policy, []core.Counter) error {
	return errDown
}
func (downStore) Clear(context.Context, []core.Key) error         { return errDown }
func (downStore) Reset(context.Context, core.Filter) (int, error) { return 0, errDown }
