// Package admin serves the axes dashboard, the counterpart of the "Access
// Attempts" section of Django's admin: attempt records with their lockout
// status, access logs, failure logs, resets, an overview with a chart, and
// the same data as JSON for scripts.
//
// The handler is an http.Handler rendered on the server (html/template, no
// JavaScript). Mount it under any prefix with http.StripPrefix, keeping the
// trailing slash in the pattern:
//
//	h := admin.Handler(engine, admin.Options{
//		Authorize: func(r *http.Request) bool { return isStaff(r) },
//	})
//	mux.Handle("/admin/axes/", http.StripPrefix("/admin/axes", h))
//
// Every framework mounts it the same way, for example gin:
// r.Any("/admin/axes/*any", gin.WrapH(http.StripPrefix("/admin/axes", h)));
// echo: e.Any("/admin/axes/*", echo.WrapHandler(http.StripPrefix("/admin/axes", h)));
// fiber: app.All("/admin/axes/*", adaptor.HTTPHandler(http.StripPrefix("/admin/axes", h))).
// All its links are relative, so it also works unstripped.
//
// Pages (relative to the mount point; add ?format=json for JSON):
//
//	./                overview: lockouts now, failures and lockouts over time, top IPs and usernames
//	./attempts        attempt records: search, filter locked / not locked, sort, paginate, reset
//	./access-logs     logins and logouts
//	./failure-logs    one row per failure (AXES_ENABLE_ACCESS_FAILURE_LOG)
//	./reset           POST only: reset selected rows, an IP, a username, or everything
//
// Security: it answers 403 to every request that Options.Authorize does not
// allow (and to everyone when Authorize is nil). Every state-changing request
// is a POST that must carry the CSRF token of its form and pass net/http's
// cross-origin protection; otherwise it is refused with 403. A token is
// signed, bound to the app's session (Options.Session; without it, to a
// cookie of the page's own) and accepted for Options.CSRFMaxAge (12 hours)
// after the page that carries it was served. Everything shown is escaped
// by html/template, with control and format characters spelt out
// (usernames and user agents are attacker-controlled). Responses carry a
// Content-Security-Policy without any script, and X-Frame-Options DENY.
//
// Give it the app's session, so that a form's token is worth nothing in
// another session or after a logout:
//
//	h := admin.Handler(engine, admin.Options{
//		Authorize: isStaff,
//		Session:   admin.CookieSession("session"), // or your session library's session ID
//	})
package admin

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/goaxes/axes/core"
)

// Options configures the admin handler. The zero value refuses everyone.
type Options struct {
	// Authorize reports whether the request may use the admin page (for
	// example: a logged-in staff user). Nil refuses everyone with 403.
	Authorize func(*http.Request) bool
	// PageSize is the number of rows per page. Default: 50; at most 500.
	PageSize int
	// Title heads every page. Default: "axes".
	Title string
	// Session returns the identifier of the request's session in the app:
	// the value of its session cookie (CookieSession reads one), or the
	// session ID that its session library keeps. The CSRF token of every
	// form is bound to it: a token is refused in another session, so one
	// from before a logout or a new login stops working. "" means no
	// session, and every form is refused. Nil binds the tokens to a cookie
	// of the admin page's own (axes_admin_csrf) instead, which outlives the
	// app's logouts: set Session when the app has sessions.
	Session func(*http.Request) string
	// CSRFKey signs the CSRF tokens. Default: a random key per handler;
	// set the same key on every instance behind a load balancer.
	CSRFKey []byte
	// CSRFMaxAge is how long after a page was served its forms are
	// accepted; an older form is refused with a message that asks to
	// reload the page. The time is the engine's clock (core.Config.Clock).
	// Default: 12 hours.
	CSRFMaxAge time.Duration
	// Timeout bounds the store calls of one request. Default: 10s.
	Timeout time.Duration
}

// handler serves the admin pages. Safe for concurrent use.
type handler struct {
	engine *core.Engine
	opts   Options
	csrf   csrf
	cop    *http.CrossOriginProtection
}

// Handler returns the admin page for engine. It keeps nothing of its own
// but the CSRF key; the engine and its store stay the caller's.
func Handler(engine *core.Engine, opts Options) http.Handler {
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	opts.PageSize = min(opts.PageSize, 500)
	if opts.Title == "" {
		opts.Title = "axes"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.CSRFMaxAge <= 0 {
		opts.CSRFMaxAge = 12 * time.Hour
	}
	key := opts.CSRFKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	c := csrf{key: key, session: opts.Session, maxAge: opts.CSRFMaxAge, now: engine.Now}
	return &handler{engine: engine, opts: opts, csrf: c, cop: http.NewCrossOriginProtection()}
}

// route is the page a path names: its last segment, so that the handler
// works with or without http.StripPrefix.
func route(path string) string {
	if path == "" || strings.HasSuffix(path, "/") {
		return ""
	}
	return path[strings.LastIndexByte(path, '/')+1:]
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nonce := securityHeaders(w)
	if h.opts.Authorize == nil || !h.opts.Authorize(r) {
		plain(w, http.StatusForbidden, "403 Forbidden: you are not allowed to use the axes admin page.")
		return
	}
	if r.URL.Path == "" {
		// Mounted at "/admin/axes" without the slash: relative links need it.
		uri, _, _ := strings.Cut(r.RequestURI, "?")
		w.Header().Set("Location", uri[strings.LastIndexByte(uri, '/')+1:]+"/")
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	rq := &request{h: h, w: w, r: r.WithContext(ctx), nonce: nonce}
	page := route(r.URL.Path)
	if page == "reset" {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			plain(w, http.StatusMethodNotAllowed, "405 Method Not Allowed: reset takes a POST from the admin page's forms.")
			return
		}
		if err := h.cop.Check(r); err != nil {
			plain(w, http.StatusForbidden, "403 Forbidden: cross-origin request refused.")
			return
		}
		if err := rq.r.ParseForm(); err != nil {
			plain(w, http.StatusBadRequest, "400 Bad Request: the form could not be read.")
			return
		}
		switch h.csrf.check(r, rq.r.PostForm.Get("csrf")) {
		case csrfInvalid:
			plain(w, http.StatusForbidden, "403 Forbidden: CSRF token missing or invalid, or from another session. Reload the admin page and try again.")
			return
		case csrfExpired:
			plain(w, http.StatusForbidden, "403 Forbidden: this form has expired (its page was served more than "+h.opts.CSRFMaxAge.String()+" ago). Reload the admin page and try again.")
			return
		case csrfNoSession:
			plain(w, http.StatusForbidden, "403 Forbidden: no session to check this form's CSRF token against. Log in, reload the admin page and try again.")
			return
		}
		rq.token = h.csrf.token(w, r)
		rq.reset()
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "405 Method Not Allowed")
		return
	}
	rq.token = h.csrf.token(w, r)
	switch page {
	case "":
		rq.overview()
	case "attempts":
		rq.attempts()
	case "access-logs":
		rq.accessLogs()
	case "failure-logs":
		rq.failureLogs()
	default:
		plain(w, http.StatusNotFound, "404 Not Found")
	}
}

// securityHeaders sets the headers of every response and returns the nonce
// of the page's <style>.
func securityHeaders(w http.ResponseWriter) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := b64(b)
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; style-src 'nonce-"+nonce+"'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	return nonce
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
