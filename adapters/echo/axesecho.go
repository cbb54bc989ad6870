// Package axesecho adapts axes to github.com/labstack/echo/v4.
//
// Middleware and MiddlewareWithConfig protect the login routes of an echo
// instance or group; Dispatch wraps one login handler; FormInvalid wraps the
// failure path of a login form; the Report helpers serve handlers that check
// credentials themselves. Every function takes the engine first and is safe
// for concurrent use.
package axesecho

import (
	"sync/atomic"
	"unsafe"

	"github.com/labstack/echo/v4"

	"github.com/goaxes/axes/core"
)

// Config configures MiddlewareWithConfig. The zero Config protects POST
// requests to every path the middleware sees.
type Config struct {
	// Skipper skips the middleware when it returns true; it has the type
	// of echo's middleware.Skipper. Default: none skipped.
	Skipper func(c echo.Context) bool
	// Paths are the exact paths of the login routes. Default: every path.
	Paths []string
	// Methods are the methods that are login attempts. Default: POST.
	Methods []string
	// Outcome reads the login handler's response status when the handler
	// reported nothing itself. Default: core.ResultFromStatus (401 and 403
	// failures, 2xx and 3xx successes, anything else neither).
	Outcome func(status int) core.Result
}

const loginKey = "axes.login"

// Middleware protects POST requests on every route it is used on.
func Middleware(e *core.Engine) echo.MiddlewareFunc {
	return MiddlewareWithConfig(e, Config{})
}

// MiddlewareWithConfig returns echo middleware that protects the login
// routes: before the handler it begins the attempt, answering a locked,
// blacklisted or unresolvable client with core's response (the handler
// never runs); after it, it reports the outcome and, when that failure
// locked the client, sends the lockout response instead of the handler's.
func MiddlewareWithConfig(e *core.Engine, cfg Config) echo.MiddlewareFunc {
	return (&middleware{e: e, cfg: cfg}).wrap
}

// middleware remembers the handlers it wrapped: echo wraps the route's
// handler in every middleware on every request, and a wrapping made anew
// would allocate on every request, login route or not.
type middleware struct {
	e     *core.Engine
	cfg   Config
	seen  [16]atomic.Uintptr           // a handler seen once, by its address
	cache [16]atomic.Pointer[wrapping] // a handler seen twice, and its wrapping
}

type wrapping struct{ next, h echo.HandlerFunc }

// funcAddr is the address of the closure f refers to: two handlers with one
// address are one closure (while one of them is alive).
func funcAddr(f echo.HandlerFunc) uintptr { return *(*uintptr)(unsafe.Pointer(&f)) }

func (m *middleware) wrap(next echo.HandlerFunc) echo.HandlerFunc {
	p := funcAddr(next)
	i := (p >> 4) % uintptr(len(m.cache))
	if w := m.cache[i].Load(); w != nil && funcAddr(w.next) == p {
		return w.h
	}
	h := func(c echo.Context) error { return m.serve(c, next) }
	// Remember a handler seen twice (a route's), not one made for a
	// single request by a middleware that runs after this one. The
	// wrapping keeps next alive, so its address names it alone.
	if m.seen[i].Swap(p) == p {
		m.cache[i].Store(&wrapping{next: next, h: h})
	}
	return h
}

func (m *middleware) serve(c echo.Context, next echo.HandlerFunc) error {
	r := c.Request()
	if (m.cfg.Skipper != nil && m.cfg.Skipper(c)) || !core.IsLoginRoute(m.cfg.Paths, m.cfg.Methods, r.Method, r.URL.Path) {
		return next(c)
	}
	return serve(m.e, m.cfg.Outcome, c, next)
}

// Dispatch wraps one login handler as Middleware does (django-axes'
// axes_dispatch): its POST requests are login attempts.
func Dispatch(e *core.Engine, h echo.HandlerFunc) echo.HandlerFunc {
	return Middleware(e)(h)
}

func serve(e *core.Engine, outcome func(int) core.Result, c echo.Context, next echo.HandlerFunc) error {
	r := c.Request()
	ctx := r.Context()
	// Unless something before the handler needs the username, a refused
	// request's body is never read; the handler reads what the guard read.
	l := e.BeginHTTP(ctx, r)
	resp := l.Refusal()
	if resp == nil {
		resp = l.PrepareHTTP(r)
	}
	if resp != nil {
		err := write(c, resp)
		l.End(ctx)
		return err
	}
	c.Set(loginKey, l)
	res := c.Response()
	orig := res.Writer
	buf := core.NewResponseBuffer(orig)
	res.Writer = buf
	finished := false
	defer func() {
		res.Writer = orig // echo's recovery writes its 500 to the real writer
		if !finished {    // the handler panicked: the panic goes on
			l.Panicked(ctx)
		}
	}()
	err := next(c)
	finished = true
	if err != nil {
		c.Error(err) // the error handler decides the status, as echo's RequestLogger does
	}
	res.Writer = orig
	if resp := l.Finish(ctx, buf.Status(), outcome); resp != nil {
		res.Committed, res.Size = false, 0
		err = write(c, resp)
	} else {
		buf.Send()
		res.Committed = true
	}
	buf.Release()
	l.End(ctx)
	return err
}

func write(c echo.Context, r *core.Response) error {
	core.WriteResponse(c.Response(), r)
	return nil
}

func login(e *core.Engine, c echo.Context) *core.Login {
	if l, ok := c.Get(loginKey).(*core.Login); ok && l.Engine == e {
		return l
	}
	return e.HTTPLogin(c.Request())
}

// FormInvalid wraps the failure path of a login form (django-axes'
// axes_form_invalid): it reports the failure and, when that failure locks
// the client, answers with the lockout response instead of running failure.
func FormInvalid(e *core.Engine, failure echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		l := login(e, c)
		l.Fail(c.Request().Context(), "")
		if resp := l.Lockout(); resp != nil {
			return write(c, resp)
		}
		return failure(c)
	}
}

// Credentials returns the username and the password that axes read from
// the request's body (the form's or the JSON body's fields named by the
// username and password settings): a handler that checks credentials
// itself verifies these, so that the username it verifies is the one
// counted.
func Credentials(e *core.Engine, c echo.Context) (username, password string) {
	return login(e, c).Credentials()
}

// Check is called by a handler that verifies credentials itself, before it
// verifies username's password: when username is not the one axes read, its
// lock is checked and the attempt counted for it. When the decision is
// refused the handler must not verify the password; under Middleware or
// Dispatch the lockout response replaces the handler's.
func Check(e *core.Engine, c echo.Context, username string) core.Decision {
	return login(e, c).Check(c.Request().Context(), username)
}

// ReportFailure reports wrong credentials for username ("": the one read
// from the body) and returns the new decision. Under Middleware or Dispatch
// a failure that locks the client gets the lockout response in place of the
// handler's; without them the handler decides from the returned decision.
func ReportFailure(e *core.Engine, c echo.Context, username string) core.Decision {
	return login(e, c).Fail(c.Request().Context(), username)
}

// ReportSuccess reports a successful login; username as for ReportFailure.
// A success for a locked username is no login: the decision is refused,
// and under Middleware or Dispatch the lockout response (without the
// handler's cookies) replaces the handler's.
func ReportSuccess(e *core.Engine, c echo.Context, username string) core.Decision {
	return login(e, c).Succeed(c.Request().Context(), username)
}

// ReportLogout reports that username logged out.
func ReportLogout(e *core.Engine, c echo.Context, username string) {
	login(e, c).Logout(c.Request().Context(), username)
}

// DecisionFrom returns the request's current decision: failures so far,
// AttemptsLeft, LockedUntil.
func DecisionFrom(e *core.Engine, c echo.Context) core.Decision {
	return login(e, c).Decision(c.Request().Context())
}
