// Package axesfiber adapts axes to github.com/gofiber/fiber/v2.
//
// Middleware protects the login routes of an app or group; Dispatch wraps
// one login handler; FormInvalid wraps the failure path of a login form; the
// Report helpers serve handlers that check credentials themselves. Every
// function takes the engine first and is safe for concurrent use. Fiber
// reuses its buffers after a handler returns, so every string handed to
// core is a copy.
package axesfiber

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/goaxes/axes/core"
)

// Config configures Middleware. The zero Config protects POST requests to
// every path the middleware sees.
type Config struct {
	// Next skips the middleware when it returns true. Default: nil.
	Next func(c *fiber.Ctx) bool
	// Paths are the exact paths of the login routes. Default: every path.
	Paths []string
	// Methods are the methods that are login attempts. Default: POST.
	Methods []string
	// Outcome reads the login handler's response status when the handler
	// reported nothing itself. Default: core.ResultFromStatus (401 and 403
	// failures, 2xx and 3xx successes, anything else neither).
	Outcome func(status int) core.Result
}

type loginKey struct{}

// Middleware returns fiber middleware that protects the login routes:
// before the handler it begins the attempt, answering a locked, blacklisted
// or unresolvable client with core's response (the handler never runs);
// after it, it reports the outcome and, when that failure locked the
// client, sends the lockout response instead of the handler's.
func Middleware(e *core.Engine, config ...Config) fiber.Handler {
	var cfg Config
	if len(config) > 0 {
		cfg = config[0]
	}
	return func(c *fiber.Ctx) error {
		if (cfg.Next != nil && cfg.Next(c)) || !core.IsLoginRoute(cfg.Paths, cfg.Methods, c.Method(), c.Path()) {
			return c.Next()
		}
		return serve(e, cfg.Outcome, c, c.Next)
	}
}

// Dispatch wraps one login handler as Middleware does (django-axes'
// axes_dispatch): its POST requests are login attempts.
func Dispatch(e *core.Engine, h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !core.IsLoginRoute(nil, nil, c.Method(), c.Path()) {
			return h(c)
		}
		return serve(e, nil, c, func() error { return h(c) })
	}
}

func serve(e *core.Engine, outcome func(int) core.Result, c *fiber.Ctx, next func() error) error {
	ctx := c.UserContext()
	l := e.NewLogin()
	fill(e, l.Request, c)
	// Unless something before the handler needs the username, a refused
	// request's body is never read; it is never inflated before the
	// decision.
	deferred := l.DeferCredentials(ctx, view{c})
	if !deferred {
		readBody(e, l, c)
	}
	l.Begin(ctx)
	if resp := l.Refusal(); resp != nil {
		err := write(c, resp)
		l.End(ctx)
		return err
	}
	if deferred {
		readBody(e, l, c)
		l.SetCredentials(l.Request.Username, l.Request.Form)
	}
	c.Locals(loginKey{}, l)
	finished := false
	defer func() {
		if !finished { // the handler panicked: the panic goes on
			l.Panicked(ctx)
		}
	}()
	herr := next()
	finished = true
	if herr != nil {
		// The error handler decides the status, as fiber's logger does.
		if err := c.App().ErrorHandler(c, herr); err != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	var err error
	if resp := l.Finish(ctx, c.Response().StatusCode(), outcome); resp != nil {
		c.Response().Reset()
		err = write(c, resp)
	}
	l.End(ctx)
	return err
}

// write sends r; its body is copied (core may reuse it once the request
// ends, fiber sends it later).
func write(c *fiber.Ctx, r *core.Response) error {
	for k, vs := range r.Header {
		for _, v := range vs {
			c.Response().Header.Add(k, v)
		}
	}
	c.Status(r.Status).Response().SetBody(r.Body)
	return nil
}

// readBody reads the credentials from the raw body (c.Body() would inflate
// a compressed one) and puts a form's fields where c.FormValue and
// c.BodyParser read them, so that the handler reads what the guard read;
// the query's username and password fields are removed: the query string
// is never a credential. A multipart body that fasthttp reads another way
// than the guard is not read with certainty.
func readBody(e *core.Engine, l *core.Login, c *fiber.Ctx) {
	req := c.Request()
	cfg := e.Config()
	q := req.URI().QueryArgs()
	q.Del(cfg.UsernameFormField)
	q.Del(cfg.PasswordFormField)
	form := l.ReadBytes(c.Get(fiber.HeaderContentType), c.Get(fiber.HeaderContentEncoding), req.Body())
	if form == nil {
		return
	}
	args := req.PostArgs()
	args.Reset()
	for k, vs := range form {
		for _, v := range vs {
			args.Add(k, v)
		}
	}
	if req.IsBodyStream() || !bytesHasPrefixFold(req.Header.ContentType(), "multipart/") {
		return
	}
	if mf, err := req.MultipartForm(); err != nil || !slices.Equal(mf.Value[cfg.UsernameFormField], form[cfg.UsernameFormField]) {
		l.Distrust("fiber reads the multipart body otherwise")
	}
}

func bytesHasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// request copies core's facts out of fiber's buffers: the socket peer
// (never c.IP(), core resolves forwarded headers), every header, and the
// credentials from the body.
func request(e *core.Engine, c *fiber.Ctx) *core.Login {
	l := &core.Login{Engine: e, Request: facts(c)}
	readBody(e, l, c)
	return l
}

// facts is request without the username and fields.
func facts(c *fiber.Ctx) *core.Request {
	h := http.Header{}
	c.Request().Header.VisitAll(func(k, v []byte) { h.Add(string(k), string(v)) })
	return &core.Request{RemoteAddr: remoteAddr(c), Header: h, Method: method(c.Method()),
		Path: strings.Clone(c.Path()), RawQuery: string(c.Request().URI().QueryString())}
}

// fill is facts into r; while nothing outside core sees the request, the
// headers are read from fiber's request when core asks for them.
func fill(e *core.Engine, r *core.Request, c *fiber.Ctx) {
	if !e.RequestStaysInCore() {
		*r = *facts(c)
		return
	}
	*r = core.Request{RemoteAddr: remoteAddr(c), Header: header{c}, Method: method(c.Method()),
		Path: strings.Clone(c.Path()), RawQuery: string(c.Request().URI().QueryString())}
}

// header reads a fiber request's header until the request ends; each value
// it returns is a copy.
type header struct{ c *fiber.Ctx }

func (h header) Get(name string) string { return string(h.c.Request().Header.Peek(name)) }

// view is header without the copies, for a look that keeps nothing.
type view struct{ c *fiber.Ctx }

func (h view) Get(name string) string { return h.c.Get(name) }

// method returns the method as a constant for the common ones (a copy
// otherwise).
func method(m string) string {
	switch m {
	case http.MethodPost:
		return http.MethodPost
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPut:
		return http.MethodPut
	}
	return strings.Clone(m)
}

// remoteAddr is the socket peer.
func remoteAddr(c *fiber.Ctx) string { return addrString(c.Context().RemoteAddr()) }

// addrString is a.String(), spelt with fewer allocations for a TCP address.
func addrString(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && t.Zone == "" {
		if ip, ok := netip.AddrFromSlice(t.IP); ok {
			return netip.AddrPortFrom(ip.Unmap(), uint16(t.Port)).String()
		}
	}
	return a.String()
}

func login(e *core.Engine, c *fiber.Ctx) *core.Login {
	if l, ok := c.Locals(loginKey{}).(*core.Login); ok && l.Engine == e {
		return l
	}
	return request(e, c)
}

// FormInvalid wraps the failure path of a login form (django-axes'
// axes_form_invalid): it reports the failure and, when that failure locks
// the client, answers with the lockout response instead of running failure.
func FormInvalid(e *core.Engine, failure fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		l := login(e, c)
		l.Fail(c.UserContext(), "")
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
func Credentials(e *core.Engine, c *fiber.Ctx) (username, password string) {
	return login(e, c).Credentials()
}

// Check is called by a handler that verifies credentials itself, before it
// verifies username's password: when username is not the one axes read, its
// lock is checked and the attempt counted for it. When the decision is
// refused the handler must not verify the password; under Middleware or
// Dispatch the lockout response replaces the handler's.
func Check(e *core.Engine, c *fiber.Ctx, username string) core.Decision {
	return login(e, c).Check(c.UserContext(), strings.Clone(username))
}

// ReportFailure reports wrong credentials for username ("": the one read
// from the body) and returns the new decision. Under Middleware or Dispatch
// a failure that locks the client gets the lockout response in place of the
// handler's; without them the handler decides from the returned decision.
func ReportFailure(e *core.Engine, c *fiber.Ctx, username string) core.Decision {
	return login(e, c).Fail(c.UserContext(), strings.Clone(username))
}

// ReportSuccess reports a successful login; username as for ReportFailure.
// A success for a locked username is no login: the decision is refused,
// and under Middleware or Dispatch the lockout response (without the
// handler's cookies) replaces the handler's.
func ReportSuccess(e *core.Engine, c *fiber.Ctx, username string) core.Decision {
	return login(e, c).Succeed(c.UserContext(), strings.Clone(username))
}

// ReportLogout reports that username logged out.
func ReportLogout(e *core.Engine, c *fiber.Ctx, username string) {
	login(e, c).Logout(c.UserContext(), strings.Clone(username))
}

// DecisionFrom returns the request's current decision: failures so far,
// AttemptsLeft, LockedUntil.
func DecisionFrom(e *core.Engine, c *fiber.Ctx) core.Decision {
	return login(e, c).Decision(c.UserContext())
}
