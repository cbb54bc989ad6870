// Package axeshttp adapts axes to net/http.
//
// Middleware protects the login routes of a mux; Dispatch wraps one login
// handler; FormInvalid wraps the failure path of a login form; the Report
// helpers serve handlers that check credentials themselves. Every function
// takes the engine first and is safe for concurrent use.
package axeshttp

import (
	"net/http"

	"github.com/goaxes/axes/core"
)

// Options configure Middleware. The zero Options protect POST requests to
// every path the middleware sees.
type Options struct {
	// Paths are the exact paths of the login routes. Default: every path.
	Paths []string
	// Methods are the methods that are login attempts. Default: POST.
	Methods []string
	// Outcome reads the login handler's response status when the handler
	// reported nothing itself. Default: core.ResultFromStatus (401 and 403
	// failures, 2xx and 3xx successes, anything else neither).
	Outcome func(status int) core.Result
}

// Middleware returns net/http middleware that protects the login routes:
// before the handler it begins the attempt, answering a locked, blacklisted
// or unresolvable client with core's response (the handler never runs);
// after it, it reports the outcome and, when that failure locked the
// client, sends the lockout response instead of the handler's.
func Middleware(e *core.Engine, opts Options) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !core.IsLoginRoute(opts.Paths, opts.Methods, r.Method, r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			serve(e, opts.Outcome, next, w, r)
		})
	}
}

// Dispatch wraps one login handler as Middleware does (django-axes'
// axes_dispatch): its POST requests are login attempts.
func Dispatch(e *core.Engine, h http.Handler) http.Handler {
	return Middleware(e, Options{})(h)
}

func serve(e *core.Engine, outcome func(int) core.Result, next http.Handler, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Unless something before the handler needs the username, a refused
	// request's body is never read; the handler reads what the guard read.
	l := e.BeginHTTP(ctx, r)
	resp := l.Refusal()
	if resp == nil {
		resp = l.PrepareHTTP(r)
	}
	if resp != nil {
		core.WriteResponse(w, resp)
		l.End(ctx)
		return
	}
	buf := core.NewResponseBuffer(w)
	finished := false
	defer func() {
		if !finished { // the handler panicked: the panic goes on
			l.Panicked(ctx)
		}
	}()
	next.ServeHTTP(buf, r.WithContext(l.Context(ctx)))
	finished = true
	if resp := l.Finish(ctx, buf.Status(), outcome); resp != nil {
		core.WriteResponse(w, resp)
	} else {
		buf.Send()
	}
	buf.Release()
	l.End(ctx)
}

// login returns the attempt that Middleware or Dispatch began for r, or a
// Login without one.
func login(e *core.Engine, r *http.Request) *core.Login {
	if l := core.LoginFrom(r.Context()); l != nil && l.Engine == e {
		return l
	}
	return e.HTTPLogin(r)
}

// FormInvalid wraps the failure path of a login form (django-axes'
// axes_form_invalid): it reports the failure and, when that failure locks
// the client, answers with the lockout response instead of running failure.
func FormInvalid(e *core.Engine, failure http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := login(e, r)
		l.Fail(r.Context(), "")
		if resp := l.Lockout(); resp != nil {
			core.WriteResponse(w, resp)
			return
		}
		failure.ServeHTTP(w, r)
	})
}

// Credentials returns the username and the password that axes read from
// r's body (the form's or the JSON body's fields named by the username and
// password settings): a handler that checks credentials itself verifies
// these, so that the username it verifies is the one counted.
func Credentials(e *core.Engine, r *http.Request) (username, password string) {
	return login(e, r).Credentials()
}

// Check is called by a handler that verifies credentials itself, before it
// verifies username's password: when username is not the one axes read, its
// lock is checked and the attempt counted for it. When the decision is
// refused the handler must not verify the password; under Middleware or
// Dispatch the lockout response replaces the handler's.
func Check(e *core.Engine, r *http.Request, username string) core.Decision {
	return login(e, r).Check(r.Context(), username)
}

// ReportFailure reports wrong credentials for username ("": the one read
// from the body) and returns the new decision. Under Middleware or Dispatch
// a failure that locks the client gets the lockout response in place of the
// handler's; without them the handler decides from the returned decision.
func ReportFailure(e *core.Engine, r *http.Request, username string) core.Decision {
	return login(e, r).Fail(r.Context(), username)
}

// ReportSuccess reports a successful login; username as for ReportFailure.
// A success for a locked username is no login: the decision is refused,
// and under Middleware or Dispatch the lockout response (without the
// handler's cookies) replaces the handler's.
func ReportSuccess(e *core.Engine, r *http.Request, username string) core.Decision {
	return login(e, r).Succeed(r.Context(), username)
}

// ReportLogout reports that username logged out.
func ReportLogout(e *core.Engine, r *http.Request, username string) {
	login(e, r).Logout(r.Context(), username)
}

// DecisionFrom returns the request's current decision: failures so far,
// AttemptsLeft, LockedUntil.
func DecisionFrom(e *core.Engine, r *http.Request) core.Decision {
	return login(e, r).Decision(r.Context())
}
