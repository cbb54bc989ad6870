package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
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
	if strings.EqualFold(h.Get("X-Requested-With"), "XMLHttpRequest") {
		return true
	}
	if strings.Contains(strings.ToLower(h.Get("Accept")), "application/json") {
		return true
	}
	ct := strings.ToLower(h.Get("Content-Type"))
	return strings.HasPrefix(ct, "application/json") || strings.Contains(ct, "+json")
}

// Response builds the response to a refused attempt, in django-axes'
// order: the app's LockoutResponseFunc → JSON for requests that ask for it
// → the template → a redirect to LockoutURL → plain text. Retry-After
// carries the seconds left whenever a cool-off applies (DESIGN G7). A store
// outage is a 503 with Retry-After; an unknown client a 403.
func (e *Engine) Response(f Facts, d Decision) *Response {
	var h Header
	if f.Request != nil {
		h = f.Request.Header
	}
	switch d.Outcome {
	case Unavailable:
		return e.simple(h, http.StatusServiceUnavailable, "Login is temporarily unavailable. Please try again later.", int((e.cfg.StoreTimeout+time.Second-1)/time.Second))
	case UnknownClient:
		return e.simple(h, http.StatusForbidden, "Your network address could not be determined.", 0)
	}
	retry := d.RetryAfter()
	var resp *Response
	if e.cfg.LockoutResponseFunc != nil {
		resp = e.cfg.LockoutResponseFunc(f, d)
	}
	msg := e.cfg.PermaLockMessage
	if d.CoolOff > 0 {
		msg = e.cfg.CoolOffMessage
	}
	lc := LockoutContext{FailureLimit: d.Limit, FailureCount: d.Failures, Username: d.Username, RetryAfter: retry, Error: msg}
	own := true // resp built here: no Retry-After yet
	switch {
	case resp != nil:
		own = false
	case WantsJSON(h):
		if d.CoolOff > 0 {
			lc.CoolOffTime = ISODuration(d.CoolOff)
		}
		body, _ := json.Marshal(lc)
		resp = &Response{Status: e.cfg.HTTPResponseCode, Header: http.Header{}, Body: body}
		resp.Header.Set("Content-Type", "application/json")
		resp.Header.Set("Access-Control-Allow-Origin", e.cfg.AllowedCORSOrigins)
		resp.Header.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		resp.Header.Set("Access-Control-Allow-Headers", "Origin, Content-Type, Accept, Authorization, x-requested-with")
	case e.cfg.LockoutTemplate != nil:
		if d.CoolOff > 0 {
			lc.CoolOffTime = ISODuration(d.CoolOff)
		}
		var buf bytes.Buffer
		if err := e.cfg.LockoutTemplate.Execute(&buf, lc); err != nil {
			e.log.Error("axes: lockout template failed", "error", err.Error())
			resp = e.plain(e.cfg.HTTPResponseCode, msg)
			break
		}
		resp = &Response{Status: e.cfg.HTTPResponseCode, Header: http.Header{}, Body: buf.Bytes()}
		resp.Header.Set("Content-Type", "text/html; charset=utf-8")
	case e.cfg.LockoutURL != "":
		sep := "?"
		if strings.Contains(e.cfg.LockoutURL, "?") {
			sep = "&"
		}
		resp = &Response{Status: http.StatusFound, Header: http.Header{}}
		resp.Header.Set("Location", e.cfg.LockoutURL+sep+url.Values{"username": {d.Username}}.Encode())
	default:
		resp = e.plain(e.cfg.HTTPResponseCode, msg)
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if retry > 0 && (own || resp.Header.Get("Retry-After") == "") {
		resp.Header["Retry-After"] = []string{strconv.Itoa(retry)}
	}
	return resp
}

func (e *Engine) plain(status int, msg string) *Response {
	return &Response{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(msg)}
}

func (e *Engine) simple(h Header, status int, msg string, retry int) *Response {
	var r *Response
	if WantsJSON(h) {
		body, _ := json.Marshal(map[string]string{"error": msg})
		r = &Response{Status: status, Header: http.Header{}, Body: body}
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = e.plain(status, msg)
	}
	if retry > 0 {
		r.Header.Set("Retry-After", strconv.Itoa(retry))
	}
	return r
}

// ISODuration spells d as django-axes does: P1DT2H, PT30M, PT1M30S, PT0S
// (whole seconds, rounded).
func ISODuration(d time.Duration) string {
	secs := int64((d + time.Second/2) / time.Second)
	days, secs := secs/86400, secs%86400
	hours, secs := secs/3600, secs%3600
	mins, secs := secs/60, secs%60
	var b strings.Builder
	b.WriteString("P")
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if hours == 0 && mins == 0 && secs == 0 {
		if days == 0 {
			return "PT0S"
		}
		return b.String()
	}
	b.WriteString("T")
	if hours > 0 {
		fmt.Fprintf(&b, "%dH", hours)
	}
	if mins > 0 {
		fmt.Fprintf(&b, "%dM", mins)
	}
	if secs > 0 {
		fmt.Fprintf(&b, "%dS", secs)
	}
	return b.String()
}
