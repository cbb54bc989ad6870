package core

import (
	"net/http"
	"net/url"
)

// Header is the one method core needs from a request's headers.
// http.Header satisfies it; adapters for other frameworks wrap theirs.
type Header interface {
	Get(name string) string
}

// Request holds the plain facts of one HTTP request that core needs. Adapters
// fill it from their framework; core never sees *http.Request. Every string
// must stay valid after the handler returns (fiber adapters copy).
type Request struct {
	// RemoteAddr is the socket peer, "host:port" or a bare host.
	RemoteAddr string
	// Header gives the request's headers; nil means none.
	Header Header
	// Method and Path of the request; RawQuery without the "?".
	Method, Path, RawQuery string
	// Username as the app or the body gave it, before canonicalisation.
	// Empty means none given.
	Username string
	// Form holds the fields read from the body (form or JSON), if any. It is
	// kept, masked, in attempt records; passwords never leave core unmasked.
	Form url.Values

	// Set by a Login's reading of the body: guarded says the request went
	// through it, credErr why its username is not certain (ErrUnreadable).
	guarded bool
	credErr error
}

// header returns the first value of the header name, which must be in
// canonical form ("User-Agent"): for an http.Header it is read directly, as
// Get would after canonicalising it.
func (r *Request) header(name string) string {
	if r == nil || r.Header == nil {
		return ""
	}
	if h, ok := r.Header.(http.Header); ok {
		if h == nil {
			return ""
		}
		if v := h[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return r.Header.Get(name)
}

// Facts are what core resolved from a Request: what the configuration
// functions and events see.
type Facts struct {
	// IP is the client's address as resolved (empty when it could not be).
	IP string
	// Username is the canonical username ("" when none).
	Username string
	// UserAgent, Path and Method as sent.
	UserAgent, Path, Method string
	// Request is the request the facts come from.
	Request *Request
}
