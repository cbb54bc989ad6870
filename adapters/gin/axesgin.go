// Package axesgin adapts axes to github.com/gin-gonic/gin.
//
// Middleware protects the login routes of a router or group; Dispatch wraps
// one login handler; FormInvalid wraps the failure path of a login form; the
// Report helpers serve handlers that check credentials themselves. Every
// function takes the engine first and is safe for concurrent use.
package axesgin

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

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

type loginKey struct{}

// Middleware returns gin middleware that protects the login routes: before
// the handler it begins the attempt, aborting with core's response for a
// locked, blacklisted or unresolvable client; after it, it reports the
// outcome and, when that failure locked the client, sends the lockout
// response instead of the handler's.
func Middleware(e *core.Engine, opts Options) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !core.IsLoginRoute(opts.Paths, opts.Methods, c.Request.Method, c.Request.URL.Path) {
			c.Next()
			return
		}
		serve(e, opts.Outcome, c, c.Next)
	}
}

// Dispatch wraps one login handler as Middleware does (django-axes'
// axes_dispatch): its POST requests are login attempts.
func Dispatch(e *core.Engine, h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !core.IsLoginRoute(nil, nil, c.Request.Method, c.Request.URL.Path) {
			h(c)
			return
		}
		serve(e, nil, c, func() { h(c) })
	}
}

func serve(e *core.Engine, outcome func(int) core.Result, c *gin.Context, next func()) {
	r := c.Request
	ctx := r.Context()
	// Unless something before the handler needs the username, a refused
	// request's body is never read; the handler reads what the guard read.
	l := e.BeginHTTP(ctx, r)
	resp := l.Refusal()
	if resp == nil {
		resp = l.PrepareHTTP(r)
	}
	if resp != nil {
		write(c, resp)
		l.End(ctx)
		return
	}
	c.Set(loginKey{}, l)
	orig := c.Writer
	w := writers.Get().(*bufferedWriter)
	*w = bufferedWriter{ResponseWriter: orig, buf: core.NewResponseBuffer(orig)}
	c.Writer = w
	finished := false
	defer func() {
		c.Writer = orig // gin's recovery writes its 500 to the real writer
		if !finished {  // the handler panicked: the panic goes on
			l.Panicked(ctx)
		}
	}()
	next()
	finished = true
	w.WriteHeaderNow()
	c.Writer = orig
	if resp := l.Finish(ctx, w.buf.Status(), outcome); resp != nil {
		write(c, resp)
	} else {
		w.buf.Send()
	}
	w.buf.Release()
	*w = bufferedWriter{}
	writers.Put(w)
	l.End(ctx)
}

func write(c *gin.Context, r *core.Response) {
	core.WriteResponse(c.Writer, r)
	c.Abort()
}

// writers recycles bufferedWriters.
var writers = sync.Pool{New: func() any { return new(bufferedWriter) }}

// bufferedWriter holds the handler's response with gin's semantics: the
// status may change until the first write.
type bufferedWriter struct {
	gin.ResponseWriter
	buf    *core.ResponseBuffer
	status int
}

func (w *bufferedWriter) Header() http.Header { return w.buf.Header() }
func (w *bufferedWriter) Written() bool       { return w.buf.Written() }
func (w *bufferedWriter) Flush()              {}
func (w *bufferedWriter) Size() int {
	if !w.Written() {
		return -1
	}
	return w.buf.Len()
}
func (w *bufferedWriter) WriteHeader(code int) {
	if code > 0 && !w.Written() {
		w.status = code
	}
}
func (w *bufferedWriter) WriteHeaderNow() {
	if !w.Written() {
		w.buf.WriteHeader(w.Status())
	}
}
func (w *bufferedWriter) Status() int {
	if w.Written() || w.status == 0 {
		return w.buf.Status()
	}
	return w.status
}
func (w *bufferedWriter) Write(p []byte) (int, error) {
	w.WriteHeaderNow()
	return w.buf.Write(p)
}
func (w *bufferedWriter) WriteString(s string) (int, error) {
	w.WriteHeaderNow()
	return w.buf.WriteString(s)
}

func login(e *core.Engine, c *gin.Context) *core.Login {
	if v, ok := c.Get(loginKey{}); ok {
		if l, ok := v.(*core.Login); ok && l.Engine == e {
			return l
		}
	}
	return e.HTTPLogin(c.Request)
}

// FormInvalid wraps the failure path of a login form (django-axes'
// axes_form_invalid): it reports the failure and, when that failure locks
// the client, aborts with the lockout response instead of running failure.
func FormInvalid(e *core.Engine, failure gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		l := login(e, c)
		l.Fail(c.Request.Context(), "")
		if resp := l.Lockout(); resp != nil {
			write(c, resp)
			return
		}
		failure(c)
	}
}

// Credentials returns the username and the password that axes read from
// the request's body (the form's or the JSON body's fields named by the
// username and password settings): a handler that checks credentials
// itself verifies these, so that the username it verifies is the one
// counted.
func Credentials(e *core.Engine, c *gin.Context) (username, password string) {
	return login(e, c).Credentials()
}

// Check is called by a handler that verifies credentials itself, before it
// verifies username's password: when username is not the one axes read, its
// lock is checked and the attempt counted for it. When the decision is
// refused the handler must not verify the password; under Middleware or
// Dispatch the lockout response replaces the handler's.
func Check(e *core.Engine, c *gin.Context, username string) core.Decision {
	return login(e, c).Check(c.Request.Context(), username)
}

// ReportFailure reports wrong credentials for username ("": the one read
// from the body) and returns the new decision. Under Middleware or Dispatch
// a failure that locks the client gets the lockout response in place of the
// handler's; without them the handler decides from the returned decision.
func ReportFailure(e *core.Engine, c *gin.Context, username string) core.Decision {
	return login(e, c).Fail(c.Request.Context(), username)
}

// ReportSuccess reports a successful login; username as for ReportFailure.
// A success for a locked username is no login: the decision is refused,
// and under Middleware or Dispatch the lockout response (without the
// handler's cookies) replaces the handler's.
func ReportSuccess(e *core.Engine, c *gin.Context, username string) core.Decision {
	return login(e, c).Succeed(c.Request.Context(), username)
}

// ReportLogout reports that username logged out.
func ReportLogout(e *core.Engine, c *gin.Context, username string) {
	login(e, c).Logout(c.Request.Context(), username)
}

// DecisionFrom returns the request's current decision: failures so far,
// AttemptsLeft, LockedUntil.
func DecisionFrom(e *core.Engine, c *gin.Context) core.Decision {
	return login(e, c).Decision(c.Request.Context())
}
