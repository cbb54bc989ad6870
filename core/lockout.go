package core

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// LockoutContext is what the lockout template and JSON body receive, with
// django-axes' names.
type LockoutContext struct {
	FailureLimit int    `json:"failure_limit"`
	FailureCount int    `json:"failure_count"`
	Username     string `json:"username"`
	// CoolOffTime is the cool-off in ISO 8601 (PT30M), empty without one.
	CoolOffTime string `json:"cooloff_time,omitempty"`
	// RetryAfter is the number of seconds left, 0 without a cool-off.
	RetryAfter int `json:"retry_after,omitempty"`
	// Error is the plain lockout message.
	Error string `json:"-"`
}

// WantsJSON reports whether a request asks for a JSON answer: Accept
// names application/json, the body is JSON, or X-Requested-With is
// XMLHttpRequest.
func WantsJSON(h Header) bool {
	if h == nil {
		return false
	}
	if strings.EqualFold(headerValue(h, "X-Requested-With"), "XMLHttpRequest") {
		return true
	}
	// No lower-case j, no JSON: strings.ToLower makes a j of nothing but J.
	if accept := headerValue(h, "Accept"); hasJ(accept) && strings.Contains(strings.ToLower(accept), "application/json") {
		return true
	}
	ct := headerValue(h, "Content-Type")
	if !hasJ(ct) {
		return false
	}
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "application/json") || strings.Contains(ct, "+json")
}

func hasJ(s string) bool { return strings.IndexByte(s, 'j') >= 0 || strings.IndexByte(s, 'J') >= 0 }

// headerValue is h.Get(name) for a canonical name, read directly from an
// http.Header.
func headerValue(h Header, name string) string {
	if hh, ok := h.(http.Header); ok {
		if v := hh[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return h.Get(name)
}

// Response builds the response to a refused attempt, in django-axes'
// order: the app's LockoutResponseFunc → JSON for requests that ask for it
// → the template → a redirect to LockoutURL → plain text. Retry-After
// carries the seconds left whenever a cool-off applies (docs/design.md G7). A store
// outage is a 503 with Retry-After; an unknown client a 403. The caller
// owns the returned Response.
func (e *Engine) Response(f Facts, d Decision) *Response {
	r, shared := e.response(&f, &d, new(Response), nil, jsonUnknown)
	if shared {
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
	}
	return r
}

// wantsJSON is WantsJSON of a request, once it is known.
type wantsJSON uint8

const (
	jsonUnknown wantsJSON = iota
	jsonNo
	jsonYes
)

// response is Response writing into dst and building a JSON body by
// appending to buf; json is WantsJSON of the request when known. When
// shared is true, the returned Response is dst and its Header (and, unless
// it is buf's, its Body) are shared by every response alike: they must not
// be modified. Otherwise the Response is the app's or a new one.
func (e *Engine) response(f *Facts, d *Decision, dst *Response, buf []byte, json wantsJSON) (r *Response, shared bool) {
	var h Header
	if f.Request != nil {
		h = f.Request.Header
	}
	if json == jsonUnknown {
		json = jsonNo
		if WantsJSON(h) {
			json = jsonYes
		}
	}
	switch d.Outcome {
	case Unavailable:
		e.simple(dst, json, http.StatusServiceUnavailable, msgUnavailable, int((e.cfg.StoreTimeout+time.Second-1)/time.Second))
		return dst, true
	case UnknownClient:
		e.simple(dst, json, http.StatusForbidden, msgUnknownClient, 0)
		return dst, true
	}
	retry := d.RetryAfter()
	var resp *Response
	if e.cfg.LockoutResponseFunc != nil {
		resp = e.cfg.LockoutResponseFunc(*f, *d)
	}
	msg := e.cfg.PermaLockMessage
	if d.CoolOff > 0 {
		msg = e.cfg.CoolOffMessage
	}
	if resp == nil {
		switch {
		case json == jsonYes:
			c := cannedFor(cannedJSON, e.cfg.AllowedCORSOrigins, retry)
			*dst = Response{Status: e.cfg.HTTPResponseCode, Header: c.header,
				Body: appendLockoutJSON(buf[:0], d.Limit, d.Failures, d.Username, d.CoolOff, retry)}
			return dst, true
		case e.cfg.LockoutTemplate == nil && e.cfg.LockoutURL == "":
			c := cannedFor(cannedPlain, msg, retry)
			*dst = Response{Status: e.cfg.HTTPResponseCode, Header: c.header, Body: c.body}
			return dst, true
		}
	}
	own := resp == nil // resp built here: no Retry-After yet
	if own {
		lc := LockoutContext{FailureLimit: d.Limit, FailureCount: d.Failures, Username: d.Username, RetryAfter: retry, Error: msg}
		if e.cfg.LockoutTemplate != nil {
			if d.CoolOff > 0 {
				lc.CoolOffTime = ISODuration(d.CoolOff)
			}
			var buf bytes.Buffer
			if err := e.cfg.LockoutTemplate.Execute(&buf, lc); err != nil {
				e.log.Error("axes: lockout template failed", "error", err.Error())
				resp = e.plain(e.cfg.HTTPResponseCode, msg)
			} else {
				resp = &Response{Status: e.cfg.HTTPResponseCode, Header: http.Header{}, Body: buf.Bytes()}
				resp.Header.Set("Content-Type", "text/html; charset=utf-8")
			}
		} else {
			sep := "?"
			if strings.Contains(e.cfg.LockoutURL, "?") {
				sep = "&"
			}
			resp = &Response{Status: http.StatusFound, Header: http.Header{}}
			resp.Header.Set("Location", e.cfg.LockoutURL+sep+url.Values{"username": {d.Username}}.Encode())
		}
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if retry > 0 && (own || resp.Header.Get("Retry-After") == "") {
		resp.Header["Retry-After"] = []string{strconv.Itoa(retry)}
	}
	return resp, false
}

const (
	msgUnavailable   = "Login is temporarily unavailable. Please try again later."
	msgUnknownClient = "Your network address could not be determined."
)

func (e *Engine) plain(status int, msg string) *Response {
	return &Response{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(msg)}
}

// simple fills r with a store outage's or an unknown client's response:
// {"error": msg} for JSON requests, else plain text.
func (e *Engine) simple(r *Response, json wantsJSON, status int, msg string, retry int) {
	kind := cannedPlain
	if json == jsonYes {
		kind = cannedError
	}
	c := cannedFor(kind, msg, retry)
	*r = Response{Status: status, Header: c.header, Body: c.body}
}

// The headers and bodies that lockout responses share are built once and
// kept in a small table: a refusal then allocates nothing. An entry is
// keyed by its kind, its text (the message, or the CORS origins of a JSON
// lockout) and the Retry-After seconds; entries are never modified, so
// responses built from one may be written concurrently.
type cannedKind uint8

const (
	cannedPlain cannedKind = iota // text/plain; the body is the text
	cannedJSON                    // a JSON lockout's headers; the text is the CORS origins; no body
	cannedError                   // {"error": text}
)

type canned struct {
	kind   cannedKind
	text   string
	retry  int
	header http.Header
	body   []byte
}

var cannedTable [128]atomic.Pointer[canned]

func cannedFor(kind cannedKind, text string, retry int) *canned {
	slot := &cannedTable[(uint(retry)*3+uint(kind))%uint(len(cannedTable))]
	if c := slot.Load(); c != nil && c.kind == kind && c.retry == retry && c.text == text {
		return c
	}
	c := newCanned(kind, text, retry)
	slot.Store(c)
	return c
}

// one is a header value that cannot be appended to in place (its capacity
// is its length), so that a shared value is never written through.
func one(v string) []string { return []string{v}[:1:1] }

func newCanned(kind cannedKind, text string, retry int) *canned {
	c := &canned{kind: kind, text: text, retry: retry, header: http.Header{}}
	switch kind {
	case cannedPlain:
		c.header["Content-Type"] = one("text/plain; charset=utf-8")
		c.body = []byte(text)
	case cannedJSON:
		c.header["Content-Type"] = one("application/json")
		c.header["Access-Control-Allow-Origin"] = one(text)
		c.header["Access-Control-Allow-Methods"] = one("POST, OPTIONS")
		c.header["Access-Control-Allow-Headers"] = one("Origin, Content-Type, Accept, Authorization, x-requested-with")
	case cannedError:
		c.header["Content-Type"] = one("application/json")
		c.body = appendJSONString(append([]byte(nil), `{"error":`...), text)
		c.body = append(c.body, '}')
	}
	if retry > 0 {
		c.header["Retry-After"] = one(strconv.Itoa(retry))
	}
	return c
}

// appendLockoutJSON appends the JSON lockout body, the bytes that
// encoding/json writes for a LockoutContext.
func appendLockoutJSON(b []byte, limit, failures int, username string, coolOff time.Duration, retry int) []byte {
	b = append(b, `{"failure_limit":`...)
	b = strconv.AppendInt(b, int64(limit), 10)
	b = append(b, `,"failure_count":`...)
	b = strconv.AppendInt(b, int64(failures), 10)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, username)
	if coolOff > 0 {
		b = append(b, `,"cooloff_time":"`...)
		b = appendISODuration(b, coolOff)
		b = append(b, '"')
	}
	if retry != 0 {
		b = append(b, `,"retry_after":`...)
		b = strconv.AppendInt(b, int64(retry), 10)
	}
	return append(b, '}')
}

// appendJSONString appends s quoted as encoding/json quotes it (HTML
// characters escaped, invalid UTF-8 replaced, U+2028 and U+2029 escaped).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ISODuration spells d as django-axes does: P1DT2H, PT30M, PT1M30S, PT0S
// (whole seconds, rounded).
func ISODuration(d time.Duration) string {
	var buf [32]byte
	return string(appendISODuration(buf[:0], d))
}

func appendISODuration(b []byte, d time.Duration) []byte {
	secs := int64((d + time.Second/2) / time.Second)
	days, secs := secs/86400, secs%86400
	hours, secs := secs/3600, secs%3600
	mins, secs := secs/60, secs%60
	b = append(b, 'P')
	if days > 0 {
		b = append(strconv.AppendInt(b, days, 10), 'D')
	}
	if hours == 0 && mins == 0 && secs == 0 {
		if days == 0 {
			return append(b, "T0S"...)
		}
		return b
	}
	b = append(b, 'T')
	if hours > 0 {
		b = append(strconv.AppendInt(b, hours, 10), 'H')
	}
	if mins > 0 {
		b = append(strconv.AppendInt(b, mins, 10), 'M')
	}
	if secs > 0 {
		b = append(strconv.AppendInt(b, secs, 10), 'S')
	}
	return b
}
