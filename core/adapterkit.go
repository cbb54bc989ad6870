package core

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// This file is what the four adapters share: the life of one
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

	// What a Login from NewLogin keeps in itself, so that a login request
	// allocates little: its Request, its refusal, the body read for the
	// username and its context.
	req     Request
	fault   error      // the body could not be read (ErrBadBody)
	fill    url.Values // the form read, for the handler's form accessors
	files   bool       // the multipart body had files
	refusal *Response
	resp    Response
	in      replayBody
	small   [256]byte
	ctx     loginContext
	json    wantsJSON
	pooled  bool // from NewLogin: End may reuse it
	shown   bool // handed to the handler in a Context
	ended   bool
}

// logins recycles the Logins of requests refused before their handler ran.
var logins = sync.Pool{New: func() any { return new(Login) }}

// NewLogin returns a Login whose Request the adapter fills in before
// Begin; End ends it. A login request then allocates little: the Login
// holds the Request, the body read for the username, its context and its
// response, and a Login refused before its handler ran is reused.
func (e *Engine) NewLogin() *Login {
	l := logins.Get().(*Login)
	l.Engine, l.Request, l.pooled = e, &l.req, true
	return l
}

// BeginHTTP begins the login of r, a login route's *http.Request (the
// net/http, gin and echo adapters share it): the request's facts, the
// credentials read from the body (unless nothing before the handler needs
// them: DeferCredentials), and Begin. When Refusal is nil, PrepareHTTP
// makes r ready for the handler; a refused request's body is then never
// read when the IP decided alone.
func (e *Engine) BeginHTTP(ctx context.Context, r *http.Request) *Login {
	l := e.NewLogin()
	*l.Request = httpFacts(r)
	if !l.DeferCredentials(ctx, nil) {
		l.readHTTP(r)
		if l.fault != nil {
			return l // the client's fault: nothing is counted
		}
	}
	l.Begin(ctx)
	return l
}

// PrepareHTTP makes r ready for the login handler of an allowed Login: the
// body is read if BeginHTTP deferred it, and the guard's reading is put
// where net/http's form accessors look (fillHTTP). It returns the response
// that replaces the handler when the body could not be read or the
// request's context ended (the client's fault, answered 400), or nil.
func (l *Login) PrepareHTTP(r *http.Request) *Response {
	if !l.Request.guarded {
		l.readHTTP(r)
		if l.Attempt != nil {
			l.SetCredentials(l.Request.Username, l.Request.Form)
		}
	}
	if l.fault == nil && r.Context().Err() != nil {
		// The client went away, or the request's deadline passed, before
		// the handler: no password is checked for nobody.
		l.fault = fmt.Errorf("%w: %w", ErrBadBody, context.Cause(r.Context()))
	}
	if l.fault != nil {
		if l.Attempt != nil {
			l.Attempt.Abandon(context.Background())
		}
		return l.Refusal()
	}
	l.fillHTTP(r)
	return nil
}

// HTTPLogin returns a Login without an attempt for r, its credentials read
// from what is left of the body (which stays whole for the handler) or from
// r.PostForm: the Login of a handler that reports its outcome itself,
// outside the adapters' Middleware and Dispatch.
func (e *Engine) HTTPLogin(r *http.Request) *Login {
	l := &Login{Engine: e}
	l.req = httpFacts(r)
	l.Request = &l.req
	l.readHTTP(r)
	return l
}

// httpFacts is the Request of r before its body is read: the socket peer
// (never a forwarded header: core resolves those), the headers, the
// method, the path and the query.
func httpFacts(r *http.Request) Request {
	return Request{RemoteAddr: r.RemoteAddr, Header: r.Header, Method: r.Method,
		Path: r.URL.Path, RawQuery: r.URL.RawQuery}
}

// Begin begins the attempt of the Login's Request (Engine.Begin). When the
// lockout parameters involve the username and the guard could not read it
// with certainty, the attempt is counted as a failure of the client IP at
// once, and Refusal answers 400 (or the lockout that failure earned).
func (l *Login) Begin(ctx context.Context) {
	a := l.Engine.Begin(ctx, l.Request)
	l.Attempt = a
	if a.p.unreadable != nil && a.d.Outcome == Allowed {
		a.Fail(ctx)
	}
}

// End ends the request once its response is written: the attempt is
// handed back to the engine (Attempt.Done) and the Login, the Response
// that Refusal or Lockout returned and the body that ReadCredentials
// returned must no longer be used; later reports through the Login begin
// a new attempt. A Login that was refused before its handler ran, whose
// body was not read and whose request no function or EventHandler of the
// configuration saw, is reused. A Login whose handler panicked is simply
// ended by Panicked instead.
func (l *Login) End(ctx context.Context) {
	if l.ended {
		return
	}
	l.ended = true
	if l.Attempt != nil {
		l.Attempt.Done(ctx)
		l.Attempt = nil
	}
	if !l.pooled || l.shown || l.refusal == nil || l.in.body != nil || l.Request.guarded || !l.Engine.factsPrivate() {
		return
	}
	*l = Login{}
	logins.Put(l)
}

// Panicked ends a Login whose handler panicked (adapters call it from a
// deferred function, and the panic goes on to the framework's recovery):
// unless the handler reported an outcome, the attempt counts as a failure,
// as a guess that crashed the handler is still a guess; then End.
func (l *Login) Panicked(ctx context.Context) {
	if !l.Reported && l.Attempt != nil {
		l.Fail(ctx, "")
	}
	l.End(ctx)
}

// RequestStaysInCore reports whether no code outside core (no function of
// the configuration, no EventHandler) sees a request's Facts, and so its
// Request: an adapter may then give core a Header that reads its
// framework's request only until the request ends (copying each value it
// returns) instead of a copy of every header.
func (e *Engine) RequestStaysInCore() bool { return e.factsPrivate() }

// factsPrivate reports whether no code outside core sees a request's
// Facts (which point to its Request): no function of the configuration
// and no EventHandler.
func (e *Engine) factsPrivate() bool {
	c := &e.cfg
	return c.Events == nil && c.UsernameFunc == nil && c.ClientIPFunc == nil && c.WhitelistFunc == nil &&
		c.FailureLimitFunc == nil && c.CoolOffFunc == nil && c.LockoutParametersFunc == nil && c.LockoutResponseFunc == nil
}

// Refusal is the response to a request refused before its handler ran
// (locked, blacklisted, unknown client, store outage), or nil. It must not
// be modified (its header may be shared with other responses).
func (l *Login) Refusal() *Response {
	if l.refusal != nil {
		return l.refusal
	}
	if l.fault != nil {
		l.refusal = l.badRequest("The request body could not be read.")
		return l.refusal
	}
	if l.Attempt == nil {
		return nil
	}
	if !l.Attempt.d.Refused() {
		if err := l.Attempt.p.unreadable; err != nil && l.Attempt.d.Outcome == Allowed {
			l.refusal = l.badRequest("The login request could not be read: " + strings.TrimPrefix(err.Error(), ErrUnreadable.Error()+": ") + ".")
			return l.refusal
		}
		return nil
	}
	buf := l.small[:0]
	if l.in.body != nil {
		buf = nil // small holds the body read
	}
	l.refusal = l.response(&l.resp, buf)
	return l.refusal
}

// badRequest is the 400 response with msg, in JSON when the request asks
// for it.
func (l *Login) badRequest(msg string) *Response {
	json := l.json
	if json == jsonUnknown {
		json = jsonNo
		if WantsJSON(l.Request.Header) {
			json = jsonYes
		}
	}
	l.Engine.simple(&l.resp, json, http.StatusBadRequest, msg, 0)
	return &l.resp
}

// response builds the response to the refused attempt into dst.
func (l *Login) response(dst *Response, buf []byte) *Response {
	a := l.Attempt
	r, _ := a.e.response(&a.p.facts, &a.d, dst, buf, l.json)
	return r
}

// Lockout is the lockout response that a reported failure earned (the
// limit-th failure), or nil. It must not be modified.
func (l *Login) Lockout() *Response { return l.lockout }

// Context returns parent carrying the Login, for LoginFrom: adapters hand
// it to the login handler.
func (l *Login) Context(parent context.Context) context.Context {
	l.shown = true
	l.ctx = loginContext{Context: parent, l: l}
	return &l.ctx
}

// LoginFrom returns the Login whose Context ctx is or descends from, or
// nil.
func LoginFrom(ctx context.Context) *Login {
	l, _ := ctx.Value(loginContextKey{}).(*Login)
	return l
}

type loginContextKey struct{}

type loginContext struct {
	context.Context
	l *Login
}

func (c *loginContext) Value(key any) any {
	if key == (loginContextKey{}) {
		return c.l
	}
	return c.Context.Value(key)
}

// attempt returns the attempt that username's report or check is about:
// the one begun before the handler when username is "" or the username it
// was begun for; otherwise (the handler verified a username the guard did
// not read, or nothing was begun) an attempt begun now for username, with
// the one begun before taken back. Beginning it checks username's lock
// and counts the attempt in one store step, as before any handler.
func (l *Login) attempt(ctx context.Context, username string) *Attempt {
	if a := l.Attempt; a != nil && (username == "" || l.Engine.sameUser(l.Request, username)) {
		return a
	}
	if username != "" {
		r := *l.Request
		r.Username, r.guarded, r.credErr = username, false, nil
		l.Request = &r
	}
	if l.Attempt != nil {
		l.Attempt.Done(ctx)
	}
	l.Attempt = l.Engine.Begin(ctx, l.Request)
	return l.Attempt
}

// sameUser reports whether username is the username r gave, once
// canonical.
func (e *Engine) sameUser(r *Request, username string) bool {
	if e.cfg.UsernameFunc == nil {
		return CanonicalUsername(username) == CanonicalUsername(r.Username)
	}
	c := *r
	c.Username = username
	return e.cfg.UsernameFunc(&c) == e.cfg.UsernameFunc(r)
}

// refuse keeps the lockout response of a refused decision, to replace the
// handler's.
func (l *Login) refuse(d Decision) Decision {
	if d.Refused() {
		l.lockout = l.response(new(Response), nil)
	}
	return d
}

// Check is called by a handler that verifies credentials itself, before
// it verifies username's password (django-axes checks inside
// authenticate()): when username is not the one the guard read, its lock
// is checked and the attempt counted for it in one store step. When the
// returned decision is refused, the handler must not verify; Lockout
// returns the response that replaces the handler's.
//
// Without an attempt begun before the handler (no Middleware or Dispatch),
// Check only looks: the failure or success the handler reports next counts.
func (l *Login) Check(ctx context.Context, username string) Decision {
	if l.Attempt == nil {
		r := *l.Request
		if username != "" {
			r.Username = username
		}
		d := l.Engine.Status(ctx, &r)
		if d.Refused() {
			l.lockout = l.Engine.Response(Facts{IP: d.IP, Username: d.Username, Method: r.Method, Path: r.Path, Request: &r}, d)
		}
		return d
	}
	return l.refuse(l.attempt(ctx, username).Decision())
}

// Fail reports wrong credentials (user_login_failed) for username ("": the
// one the guard read) and returns the new decision; when it is refused
// (the limit-th failure, or username already locked), Lockout returns the
// response that replaces the handler's.
func (l *Login) Fail(ctx context.Context, username string) Decision {
	l.Reported = true
	a := l.attempt(ctx, username)
	d := a.Decision()
	if !d.Refused() && d.Outcome != FailedOpen {
		d = a.Fail(ctx)
	}
	return l.refuse(d)
}

// Succeed reports a successful login (user_logged_in) for username ("":
// the one the guard read). A success for a username that is locked (one
// the guard did not read and check before the handler) is no login: the
// returned decision is refused, and Lockout returns the response that
// replaces the handler's, its cookies dropped.
func (l *Login) Succeed(ctx context.Context, username string) Decision {
	l.Reported = true
	a := l.attempt(ctx, username)
	d := a.Decision()
	if !d.Refused() {
		a.Succeed(ctx)
	}
	return l.refuse(d)
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

// responseBuffers recycles the ResponseBuffers handed back by Release.
var responseBuffers = sync.Pool{New: func() any { return &ResponseBuffer{header: http.Header{}} }}

// maxPooledBody caps the body buffer that a released ResponseBuffer keeps.
const maxPooledBody = 64 << 10

// NewResponseBuffer returns a buffer in front of w. Release hands it back
// for reuse once its response is sent or replaced.
func NewResponseBuffer(w http.ResponseWriter) *ResponseBuffer {
	b := responseBuffers.Get().(*ResponseBuffer)
	b.w = w
	// A copy of w's header, as http.Header.Clone makes it.
	wh := w.Header()
	n := 0
	for _, v := range wh {
		n += len(v)
	}
	var vals []string
	if n > 0 {
		vals = make([]string, n)
	}
	for k, v := range wh {
		if v == nil {
			b.header[k] = nil
			continue
		}
		c := copy(vals, v)
		b.header[k] = vals[:c:c]
		vals = vals[c:]
	}
	return b
}

// Release hands b back for reuse by a later NewResponseBuffer; b, its
// Header and the bytes it buffered must not be used afterwards.
func (b *ResponseBuffer) Release() {
	clear(b.header)
	b.w, b.status = nil, 0
	if b.body.Cap() > maxPooledBody {
		b.body = bytes.Buffer{}
	}
	b.body.Reset()
	responseBuffers.Put(b)
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

// WriteString buffers s.
func (b *ResponseBuffer) WriteString(s string) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.WriteString(s)
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
// status, body. The header values are r's own (w's header shares them).
func WriteResponse(w http.ResponseWriter, r *Response) {
	h := w.Header()
	for k, v := range r.Header {
		h[k] = v
	}
	h["Content-Length"] = ContentLength(len(r.Body))
	w.WriteHeader(r.Status)
	_, _ = w.Write(r.Body)
}

// contentLengths holds the Content-Length header values of short bodies,
// made once each.
var contentLengths [1024]atomic.Pointer[[1]string]

// ContentLength returns the Content-Length header value for a body of n
// bytes. Callers must not modify it: short lengths share their value.
func ContentLength(n int) []string {
	if n < 0 || n >= len(contentLengths) {
		return []string{strconv.Itoa(n)}
	}
	p := contentLengths[n].Load()
	if p == nil {
		p = &[1]string{strconv.Itoa(n)}
		contentLengths[n].Store(p)
	}
	return p[:]
}

// readAtMost appends to b what r gives until EOF, an error or limit bytes,
// as io.ReadAll(io.LimitReader(r, limit)) does.
func readAtMost(b []byte, r io.Reader, limit int64) ([]byte, error) {
	for int64(len(b)) < limit {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		end := cap(b)
		if room := limit - int64(len(b)); room < int64(end-len(b)) {
			end = len(b) + int(room)
		}
		n, err := r.Read(b[len(b):end])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// replayBody gives the bytes read for the username, then the rest of the
// body; Close closes the body.
type replayBody struct {
	prefix []byte
	body   io.ReadCloser
}

func (r *replayBody) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	return r.body.Read(p)
}

func (r *replayBody) Close() error { return r.body.Close() }

// DeferCredentials reports whether an adapter may begin the attempt of a
// request before reading its body for the username (then SetCredentials
// once it is allowed): nothing that runs before the login handler would see
// the username. That holds when no lockout parameter names the username, no
// function of the configuration sees the request, no EventHandler is set,
// the refusal would not be JSON, a template or a redirect (which name the
// username), and no log line that names it is enabled. A refused request's
// body is then never read.
func (e *Engine) DeferCredentials(ctx context.Context, h Header) bool {
	return e.deferCredentials(ctx, WantsJSON(h))
}

// DeferCredentials is Engine.DeferCredentials for the Login's Request,
// which the adapter has filled in; the Login remembers whether the request
// asks for JSON. h, when not nil, gives the same headers as the Request's:
// it is only read during the call, so its values need not outlive it (a
// view of fiber's buffers that copies nothing).
func (l *Login) DeferCredentials(ctx context.Context, h Header) bool {
	if !l.Engine.deferOK {
		return false // WantsJSON waits for a refusal
	}
	if h == nil {
		h = l.Request.Header
	}
	json := WantsJSON(h)
	l.json = jsonNo
	if json {
		l.json = jsonYes
	}
	return l.Engine.deferCredentials(ctx, json)
}

func (e *Engine) deferCredentials(ctx context.Context, json bool) bool {
	c := &e.cfg
	if !e.deferOK || json {
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
