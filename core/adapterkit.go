package core

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// This file is what the four adapters share (STYLE 11): the life of one
// login request around the app's handler, the reading of a response status,
// and a buffer for handlers' responses. Adapters only translate.

// Result is what a login handler's response says about the attempt.
type Result uint8

const (
	// ResultNeither: neither a failure nor a success (a form with a missing
	// field, a server error); the attempt's advance count is taken back.
	ResultNeither Result = iota
	// ResultFailure: the credentials were wrong.
	ResultFailure
	// ResultSuccess: the user logged in.
	ResultSuccess
)

// ResultFromStatus is the default reading of a login handler's response
// status: 401 and 403 are failures, 2xx and 3xx successes, anything else
// neither.
func ResultFromStatus(status int) Result {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ResultFailure
	case status >= 200 && status < 400:
		return ResultSuccess
	}
	return ResultNeither
}

// IsLoginRoute reports whether a request is a login attempt for an adapter
// configured with paths (exact; empty: every path) and methods (empty:
// POST only, as a GET of the login form is no attempt).
func IsLoginRoute(paths, methods []string, method, path string) bool {
	if len(methods) == 0 {
		if method != http.MethodPost {
			return false
		}
	} else if !slices.Contains(methods, method) {
		return false
	}
	return len(paths) == 0 || slices.Contains(paths, path)
}

// Login follows one request through a login handler for an adapter: the
// attempt begun before the handler (nil when the handler runs without the
// adapter's middleware), whether the handler reported its outcome itself,
// and the lockout response that replaces the handler's response. Adapters
// keep it in the request's context. Not safe for concurrent use.
type Login struct {
	Engine  *Engine
	Request *Request
	Attempt *Attempt
	// Reported is set once the outcome was reported.
	Reported bool
	lockout  *Response
}

// BeginLogin begins the attempt of r (Engine.Begin). When the returned
// Login's Refusal is not nil, the handler must not run.
func (e *Engine) BeginLogin(ctx context.Context, r *Request) *Login {
	return &Login{Engine: e, Request: r, Attempt: e.Begin(ctx, r)}
}

// Refusal is the response to a request refused before its handler ran
// (locked, blacklisted, unknown client, store outage), or nil.
func (l *Login) Refusal() *Response {
	if l.Attempt == nil {
		return nil
	}
	return l.Attempt.Response()
}

// Lockout is the lockout response that a reported failure earned (the
// limit-th failure), or nil.
func (l *Login) Lockout() *Response { return l.lockout }

// attempt returns the attempt begun before the handler, or nil when there
// is none or when it knew no username and the handler names one: then it is
// taken back, and the request carries the handler's username.
func (l *Login) attempt(ctx context.Context, username string) *Attempt {
	if l.Attempt != nil && (username == "" || l.Attempt.Facts().Username != "") {
		return l.Attempt
	}
	if l.Attempt != nil {
		l.Attempt.Abandon(ctx)
		l.Attempt = nil
	}
	if username != "" {
		r := *l.Request
		r.Username = username
		l.Request = &r
	}
	return nil
}

// Fail reports wrong credentials (user_login_failed) and returns the new
// decision; when it is refused (the limit-th failure, or a client already
// locked), Lockout returns the response that replaces the handler's.
func (l *Login) Fail(ctx context.Context, username string) Decision {
	l.Reported = true
	a := l.attempt(ctx, username)
	if a == nil {
		a = l.Engine.Begin(ctx, l.Request)
		l.Attempt = a
	}
	d := a.Decision()
	if !d.Refused() && d.Outcome != FailedOpen {
		d = a.Fail(ctx)
	}
	if d.Refused() {
		l.lockout = a.Response()
	}
	return d
}

// Succeed reports a successful login (user_logged_in).
func (l *Login) Succeed(ctx context.Context, username string) {
	l.Reported = true
	if a := l.attempt(ctx, username); a != nil {
		a.Succeed(ctx)
		return
	}
	l.Engine.ReportSuccess(ctx, l.Request)
}

// Logout reports a logout (user_logged_out). An attempt begun for the
// request is taken back: a logout is no login attempt.
func (l *Login) Logout(ctx context.Context, username string) {
	l.Reported = true
	if l.Attempt != nil {
		l.Attempt.Abandon(ctx)
	}
	r := *l.Request
	if username != "" {
		r.Username = username
	}
	l.Engine.ReportLogout(ctx, &r)
}

// Decision is the current decision: the attempt's, or, without one, the
// request's status (Engine.Status). Decision.AttemptsLeft gives "2
// attempts left".
func (l *Login) Decision(ctx context.Context) Decision {
	if l.Attempt != nil {
		return l.Attempt.Decision()
	}
	return l.Engine.Status(ctx, l.Request)
}

// Finish runs after the handler: unless the handler reported the outcome,
// it reads it from the response status with outcome (nil:
// ResultFromStatus). It returns the lockout response that must replace the
// handler's response, or nil.
func (l *Login) Finish(ctx context.Context, status int, outcome func(int) Result) *Response {
	if l.Reported || l.Attempt == nil {
		return l.lockout
	}
	if outcome == nil {
		outcome = ResultFromStatus
	}
	switch outcome(status) {
	case ResultFailure:
		l.Fail(ctx, "")
	case ResultSuccess:
		l.Succeed(ctx, "")
	default:
		l.Reported = true
		l.Attempt.Abandon(ctx)
	}
	return l.lockout
}

// ResponseBuffer is an http.ResponseWriter that holds a login handler's
// response, so that an adapter can send it or replace it with the lockout
// response, as django-axes' middleware replaces the view's response. Its
// header starts as a copy of the real writer's. Flush does nothing until
// Send. Not safe for concurrent use.
type ResponseBuffer struct {
	w      http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

// NewResponseBuffer returns a buffer in front of w.
func NewResponseBuffer(w http.ResponseWriter) *ResponseBuffer {
	h := w.Header().Clone()
	if h == nil {
		h = http.Header{}
	}
	return &ResponseBuffer{w: w, header: h}
}

// Header returns the buffered header.
func (b *ResponseBuffer) Header() http.Header { return b.header }

// WriteHeader keeps the first status written.
func (b *ResponseBuffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// Write buffers p.
func (b *ResponseBuffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// Flush does nothing: the response goes out with Send.
func (b *ResponseBuffer) Flush() {}

// Written reports whether a status or a body was written.
func (b *ResponseBuffer) Written() bool { return b.status != 0 }

// Status is the status written, 200 when none was.
func (b *ResponseBuffer) Status() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

// Len is the number of body bytes buffered.
func (b *ResponseBuffer) Len() int { return b.body.Len() }

// Send writes the buffered response to the real writer.
func (b *ResponseBuffer) Send() {
	h := b.w.Header()
	clear(h)
	maps.Copy(h, b.header)
	b.w.WriteHeader(b.Status())
	_, _ = b.w.Write(b.body.Bytes())
}

// WriteResponse writes r to w: headers (replacing any of the same name),
// status, body.
func WriteResponse(w http.ResponseWriter, r *Response) {
	h := w.Header()
	for k, v := range r.Header {
		h[k] = v
	}
	h["Content-Length"] = []string{strconv.Itoa(len(r.Body))}
	w.WriteHeader(r.Status)
	_, _ = w.Write(r.Body)
}

// DeferCredentials reports whether an adapter may begin the attempt of a
// request before reading its body for the username (then SetCredentials
// once it is allowed): nothing that runs before the login handler would see
// the username. That holds when no lockout parameter names the username, no
// function of the configuration sees the request, no EventHandler is set,
// the refusal would not be JSON, a template or a redirect (which name the
// username), and no log line that names it is enabled. A refused request's
// body is then never read.
func (e *Engine) DeferCredentials(ctx context.Context, h Header) bool {
	c := &e.cfg
	if !e.deferOK || WantsJSON(h) {
		return false
	}
	if c.Verbose && (e.log.Enabled(orBackground(ctx), slog.LevelInfo) || e.log.Enabled(orBackground(ctx), slog.LevelError)) {
		return false
	}
	return true
}

// deferrable is the static part of DeferCredentials.
func (e *Engine) deferrable() bool {
	c := &e.cfg
	if c.UsernameFunc != nil || c.ClientIPFunc != nil || c.WhitelistFunc != nil || c.FailureLimitFunc != nil ||
		c.CoolOffFunc != nil || c.LockoutParametersFunc != nil || c.LockoutResponseFunc != nil ||
		c.LockoutTemplate != nil || c.LockoutURL != "" || c.Events != nil {
		return false
	}
	for _, p := range c.LockoutParameters {
		if p.Has(ParamUsername) {
			return false
		}
	}
	return true
}

// SetCredentials gives a login begun before its body was read
// (DeferCredentials) the username and fields read from it, as if the
// request had carried them when it began.
func (l *Login) SetCredentials(username string, form url.Values) {
	l.Request.Username, l.Request.Form = username, form
	a := l.Attempt
	if a == nil {
		return
	}
	u := CanonicalUsername(username)
	a.p.facts.Username = u
	if a.d.Username == "" {
		a.d.Username = u
	}
}
