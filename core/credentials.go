package core

import (
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// This file is the one reading of a login request's credentials
// (docs/design.md, G9): the guard reads the body once, under caps, and the
// login handler reads the guard's reading: the parsed form that the
// adapters put where their framework's form accessors look, the JSON body
// replayed byte for byte, and Login.Credentials. Where the guard cannot
// tell the username with certainty, it says why (ErrUnreadable), and a
// request whose lockout parameters involve the username is refused.

// usernameOf returns the username that the fields of a body read as kind
// give, and an error (wrapping ErrUnreadable) when it is not certain: the
// field missing or empty, given twice, or also in the query string. In a
// JSON body every key equal to the field under Unicode case folding is the
// field, as encoding/json matches keys to a struct's fields. The username
// returned is the field's first value either way.
func (e *Engine) usernameOf(form url.Values, kind bodyKind, rawQuery string) (string, error) {
	field := e.cfg.UsernameFormField
	user, n := "", 0
	if vs := form[field]; len(vs) > 0 {
		user, n = vs[0], len(vs)
	}
	if kind == bodyJSON {
		first := ""
		for k, vs := range form {
			if k != field && len(vs) > 0 && strings.EqualFold(k, field) {
				n += len(vs)
				if first == "" || k < first {
					first = k
				}
			}
		}
		if user == "" && first != "" && len(form[field]) == 0 {
			user = form[first][0]
		}
	}
	switch {
	case n == 0 || CanonicalUsername(user) == "":
		return user, e.errMissing
	case n > 1:
		return user, e.errTwice
	case rawQuery != "" && queryHas(rawQuery, field):
		return user, e.errInQuery
	}
	return user, nil
}

// credentialErrors are the username field's errors, made once per engine.
func (e *Engine) credentialErrors() {
	f := e.cfg.UsernameFormField
	e.errMissing = unreadable("the %q field is missing or empty", f)
	e.errTwice = unreadable("the %q field is given more than once", f)
	e.errInQuery = unreadable("the %q field is in both the query string and the body", f)
}

// queryHas reports whether a raw query string has the field.
func queryHas(rawQuery, field string) bool {
	q, _ := url.ParseQuery(rawQuery)
	_, ok := q[field]
	return ok
}

// usernameMatters reports whether the username is among params.
func usernameMatters(params []Combination) bool {
	for _, p := range params {
		if p.Has(ParamUsername) {
			return true
		}
	}
	return false
}

// ipOnly is the lockout parameter that a request whose username cannot be
// read is counted under.
var ipOnly = []Combination{ParamIPAddress}

// Credentials returns the username and the password that the guard read
// from the request's body (the password field's first value; in a JSON
// body, a key equal to it under case folding); "" for what it did not
// read. A login handler that checks credentials itself reads them here, so
// that it verifies the username that was counted.
func (l *Login) Credentials() (username, password string) {
	r := l.Request
	if r == nil {
		return "", ""
	}
	return r.Username, fieldValue(r.Form, l.Engine.cfg.PasswordFormField)
}

// fieldValue is the field's first value, or that of a key equal to it
// under case folding (the smallest such key).
func fieldValue(form url.Values, field string) string {
	if vs := form[field]; len(vs) > 0 {
		return vs[0]
	}
	best, found := "", false
	for k, vs := range form {
		if len(vs) > 0 && strings.EqualFold(k, field) && (!found || k < best) {
			best, found = k, true
		}
	}
	if found {
		return form[best][0]
	}
	return ""
}

// readBytes reads the credentials from a body of the given type and
// encoding (complete: not cut at the read cap) into the Login's Request,
// and returns the fields that a form body gave (nil for another body).
func (l *Login) readBytes(contentType, contentEncoding string, body []byte, complete bool) (form url.Values, files bool) {
	r, e := l.Request, l.Engine
	r.guarded = true
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
		r.credErr = errCompressed
		return nil, false
	}
	form, kind, files, perr := parseFields(contentType, body, complete)
	r.Form = form
	var uerr error
	r.Username, uerr = e.usernameOf(form, kind, r.RawQuery)
	r.credErr = perr
	if perr == nil {
		r.credErr = uerr
	}
	// A form that the handler's own parse would read alike is handed on:
	// all of it, bad pairs skipped as url.ParseQuery skips them.
	if (kind != bodyForm && kind != bodyMultipart) || !complete || (perr != nil && perr != errBadForm) {
		return nil, false
	}
	return form, files
}

// ReadBytes reads the credentials of a body already in memory (fiber's
// raw body: never inflated; a compressed body is not read) and returns the
// fields of a form body, which the adapter puts where its framework's form
// accessors look, so that the handler reads what the guard read; nil for
// any other body.
func (l *Login) ReadBytes(contentType, contentEncoding string, body []byte) url.Values {
	max := l.Engine.cfg.MaxBodyBytes
	complete := int64(len(body)) <= max
	if !complete {
		body = body[:max]
	}
	form, _ := l.readBytes(contentType, contentEncoding, body, complete)
	return form
}

// Distrust marks the Login's reading of the username as uncertain, for
// why: an adapter whose framework parses a body another way (fiber's
// multipart forms) and reads another username there.
func (l *Login) Distrust(why string) {
	l.Request.credErr = unreadable("%s", why)
}

// readHTTP reads the credentials of r once: at most MaxBodyBytes of its
// body, which is left to replay every byte to the handler. A read error is
// the client's (ErrBadBody). A form parsed before the guard ran (by
// middleware before it) is the reading: the handler reads that parse too.
func (l *Login) readHTTP(r *http.Request) {
	req, e := l.Request, l.Engine
	if r.PostForm != nil {
		req.guarded = true
		kind := bodyForm
		if r.MultipartForm != nil {
			kind = bodyMultipart
		}
		req.Form = r.PostForm
		req.Username, req.credErr = e.usernameOf(r.PostForm, kind, req.RawQuery)
		return
	}
	if len(r.Header["Content-Type"]) > 1 {
		req.guarded, req.credErr = true, unreadable("the request has more than one Content-Type")
		return
	}
	ct, enc := r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding")
	if r.Body == nil || r.Body == http.NoBody || (enc != "" && !strings.EqualFold(enc, "identity")) {
		// Nothing to read, or nothing the guard reads: the body is left whole.
		l.fill, l.files = l.readBytes(ct, enc, nil, true)
		return
	}
	max := e.cfg.MaxBodyBytes
	limit := max
	if limit < math.MaxInt64 {
		limit++ // one byte more tells a body past the cap
	}
	prefix, err := readAtMost(l.small[:0], r.Body, limit)
	l.in = replayBody{prefix: prefix, body: r.Body}
	r.Body = &l.in
	if err != nil {
		l.fault = fmt.Errorf("%w: %w", ErrBadBody, err)
		return
	}
	complete := int64(len(prefix)) <= max
	if !complete {
		prefix = prefix[:max]
	}
	l.fill, l.files = l.readBytes(ct, enc, prefix, complete)
}

// fillHTTP puts the guard's reading where net/http's form accessors look
// (r.FormValue, r.PostFormValue, r.PostForm, r.Form; gin's c.PostForm and
// echo's c.FormValue read them): the body's fields in PostForm (and, for a
// multipart body without files, MultipartForm), and in Form the body's
// fields followed by the query's, but for the username and password
// fields: the query string is never a credential. A body the guard did not
// read as a form leaves PostForm empty. Nothing is filled when the guard
// read no form it could hand on (a body past the cap: the handler parses
// it itself).
func (l *Login) fillHTTP(r *http.Request) {
	req, cfg := l.Request, &l.Engine.cfg
	if !req.guarded || r.PostForm != nil {
		return
	}
	post := l.fill
	if post == nil {
		if req.credErr == errTooLong || req.credErr == errTooMany {
			return
		}
		post = url.Values{}
	}
	q, _ := url.ParseQuery(req.RawQuery)
	all := make(url.Values, len(post)+len(q))
	for k, vs := range post {
		all[k] = vs[:len(vs):len(vs)]
	}
	for k, vs := range q {
		if k == cfg.UsernameFormField || k == cfg.PasswordFormField {
			continue
		}
		all[k] = append(all[k], vs...)
	}
	r.PostForm, r.Form = post, all
	if l.fill != nil && !l.files && strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/") {
		r.MultipartForm = &multipart.Form{Value: post, File: map[string][]*multipart.FileHeader{}}
	}
}
