package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// csrfCookie holds the browser's random CSRF secret. The token in each form
// is an HMAC of it under the handler's key (a signed double-submit cookie):
// a cross-site page can neither read the cookie nor compute the token.
const csrfCookie = "axes_admin_csrf"

type csrf struct{ key []byte }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (c csrf) sign(secret string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("axes-admin-csrf\x00"))
	m.Write([]byte(secret))
	return b64(m.Sum(nil))
}

// secret returns the request's CSRF secret, or "" when it has none that
// could be ours.
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

// token returns the token for the forms of the page being served, setting
// a new secret cookie when the request has none.
func (c csrf) token(w http.ResponseWriter, r *http.Request) string {
	s := secret(r)
	if s == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		s = b64(b)
		http.SetCookie(w, &http.Cookie{
			Name: csrfCookie, Value: s, Path: "/",
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
		})
	}
	return c.sign(s)
}

// valid reports whether token matches the request's secret cookie.
func (c csrf) valid(r *http.Request, token string) bool {
	s := secret(r)
	if s == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(c.sign(s)))
}
