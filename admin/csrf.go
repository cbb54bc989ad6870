package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"time"
)

// csrfCookie holds the browser's random CSRF secret when Options.Session is
// nil: the tokens are then bound to it (a signed double-submit cookie)
// instead of to the app's session.
const csrfCookie = "axes_admin_csrf"

// csrfSkew is how far in the future a token's issue time may be: the
// clocks of instances behind one load balancer differ a little.
const csrfSkew = time.Minute

// A CSRF token is the time it was issued (8 bytes, Unix seconds, big
// endian) followed by the HMAC-SHA256, under the handler's key, of that
// time and of what the token is bound to: the app's session
// (Options.Session) or the secret cookie. A cross-site page can neither
// read a token nor compute one; a token from another session, another
// browser or another key fails the HMAC, and an old one fails the age.
const (
	csrfTimeLen  = 8
	csrfTokenLen = csrfTimeLen + sha256.Size
)

type csrf struct {
	key     []byte
	session func(*http.Request) string // nil: bound to csrfCookie
	maxAge  time.Duration
	now     func() time.Time
}

// csrfResult is why a token was accepted or refused.
type csrfResult int

const (
	csrfOK        csrfResult = iota
	csrfInvalid              // missing, forged, from another session or browser
	csrfExpired              // older than maxAge
	csrfNoSession            // Session returned "": nothing to bind to
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// mac is the HMAC of a token issued at issued (its first csrfTimeLen
// bytes) for binding.
func (c *csrf) mac(binding string, issued []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("axes-admin-csrf-v2\x00"))
	if c.session != nil {
		m.Write([]byte("session\x00"))
	} else {
		m.Write([]byte("cookie\x00"))
	}
	m.Write(issued)
	m.Write([]byte(binding))
	return m.Sum(nil)
}

// binding returns what the request's tokens are bound to, "" when nothing.
func (c *csrf) binding(r *http.Request) string {
	if c.session != nil {
		return c.session(r)
	}
	return secret(r)
}

// secret returns the request's CSRF secret cookie, or "" when it has none
// that could be ours.
func secret(r *http.Request) string {
	ck, err := r.Cookie(csrfCookie)
	if err != nil {
		return ""
	}
	if b, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil || len(b) != 32 {
		return ""
	}
	return ck.Value
}

// token returns the token for the forms of the page being served, issued
// now; without Session it sets a new secret cookie when the request has
// none. Without a session it returns "" (every form is then refused).
func (c *csrf) token(w http.ResponseWriter, r *http.Request) string {
	b := c.binding(r)
	if b == "" && c.session == nil {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		b = b64(raw)
		http.SetCookie(w, &http.Cookie{
			Name: csrfCookie, Value: b, Path: "/",
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
		})
	}
	if b == "" {
		return ""
	}
	t := make([]byte, csrfTimeLen, csrfTokenLen)
	binary.BigEndian.PutUint64(t, uint64(c.now().Unix()))
	return b64(append(t, c.mac(b, t)...))
}

// check tells whether token is one that token issued for the request's
// session (or secret cookie) within maxAge.
func (c *csrf) check(r *http.Request, token string) csrfResult {
	b := c.binding(r)
	if b == "" && c.session != nil {
		return csrfNoSession
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if b == "" || err != nil || len(raw) != csrfTokenLen {
		return csrfInvalid
	}
	issued := raw[:csrfTimeLen]
	if !hmac.Equal(raw[csrfTimeLen:], c.mac(b, issued)) {
		return csrfInvalid
	}
	at := time.Unix(int64(binary.BigEndian.Uint64(issued)), 0)
	now := c.now()
	switch {
	case at.After(now.Add(csrfSkew)):
		return csrfInvalid
	case now.Sub(at) > c.maxAge:
		return csrfExpired
	}
	return csrfOK
}

// CookieSession returns an Options.Session that reads the app's session
// cookie name: the CSRF tokens are bound to its value, so they change with
// every login and stop working at logout, when the app replaces or clears
// the cookie.
func CookieSession(name string) func(*http.Request) string {
	return func(r *http.Request) string {
		ck, err := r.Cookie(name)
		if err != nil {
			return ""
		}
		return ck.Value
	}
}
