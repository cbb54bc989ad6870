package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxFields caps the fields ParseFields reads, values counted one by one;
// a body with more is not read with certainty.
const MaxFields = 1000

// maxFieldValue caps one multipart value.
const maxFieldValue = 4 << 10

// maxParts caps the multipart parts looked at, file parts included.
const maxParts = 2 * MaxFields

// ErrUnreadable is wrapped by the errors that say why the guard cannot read
// a login request's username with certainty (docs/design.md, G9): a content
// type it does not parse, a compressed body, a body past its read cap, too
// many fields, a malformed body, the username field missing, given twice, or
// in both the query string and the body. When the lockout parameters
// involve the username, such a request is refused before its handler runs
// and counted as a failure of its client IP.
var ErrUnreadable = errors.New("axes: the login request cannot be read with certainty")

// ErrBadBody is wrapped by the error of a body that could not be read: the
// client went away, the body was cut short, the request's deadline passed.
// It is the client's fault, never the store's (docs/design.md, G10): the
// request is answered 400 without running its handler, and nothing is
// counted.
var ErrBadBody = errors.New("axes: the request body could not be read")

func unreadable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnreadable}, args...)...)
}

var (
	errTooLong       = unreadable("the body is longer than the read cap")
	errTooMany       = unreadable("the body has more than %d fields", MaxFields)
	errBadForm       = unreadable("a form field is malformed")
	errBadMultipart  = unreadable("the multipart body is malformed")
	errLongPart      = unreadable("a multipart field is longer than %d bytes", maxFieldValue)
	errBadJSON       = unreadable("the body is not one JSON object")
	errNotParsed     = unreadable("the body's content type is not read (send a form or JSON)")
	errCompressed    = unreadable("compressed bodies are not read (Content-Encoding)")
	errNoContentType = unreadable("the request has no Content-Type")
)

// bodyKind is how a body was read.
type bodyKind uint8

const (
	bodyOther     bodyKind = iota // not read: a content type the guard does not parse
	bodyForm                      // application/x-www-form-urlencoded
	bodyMultipart                 // multipart/form-data
	bodyJSON                      // application/json or +json
)

// ParseFields reads the fields of a login request's body by its content
// type: URL-encoded forms, multipart forms (fields only, never files; each
// value at most 4 KiB) and JSON objects (application/json or any +json
// type: top-level string values, and numbers and booleans as their text;
// nested values and null are skipped). A repeated field keeps every value,
// in order. complete is false when the body was cut at the read cap.
//
// The error, wrapping ErrUnreadable, says why the fields may not be what
// the login handler reads: another content type, a cut body, more than
// MaxFields values, a malformed pair, part or JSON text. The fields read
// are returned with it. The result never aliases body.
func ParseFields(contentType string, body []byte, complete bool) (url.Values, error) {
	form, _, _, err := parseFields(contentType, body, complete)
	return form, err
}

// parseFields is ParseFields that also says how the body was read and
// whether a multipart body had file parts.
func parseFields(contentType string, body []byte, complete bool) (form url.Values, kind bodyKind, files bool, err error) {
	kind, boundary := bodyKindOf(contentType)
	if kind == bodyOther {
		if contentType == "" {
			return nil, kind, false, errNoContentType
		}
		return nil, kind, false, errNotParsed
	}
	if !complete {
		return nil, kind, false, errTooLong
	}
	switch kind {
	case bodyForm:
		form, err = parseURLEncoded(body)
	case bodyMultipart:
		form, files, err = parseMultipart(body, boundary)
	default:
		form, err = parseJSONFields(body)
	}
	return form, kind, files, err
}

// bodyKindOf classifies a Content-Type, and gives a multipart boundary.
func bodyKindOf(contentType string) (bodyKind, string) {
	// The usual spellings skip the MIME parser, which allocates.
	switch contentType {
	case "application/x-www-form-urlencoded":
		return bodyForm, ""
	case "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8":
		return bodyJSON, ""
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return bodyOther, ""
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		return bodyForm, ""
	case mt == "multipart/form-data" && params["boundary"] != "":
		return bodyMultipart, params["boundary"]
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return bodyJSON, ""
	}
	return bodyOther, ""
}

// parseURLEncoded is url.ParseQuery that keeps what parses and stops after
// MaxFields values. As ParseQuery, it skips pairs with a semicolon or a bad
// escape, and reports them.
func parseURLEncoded(body []byte) (url.Values, error) {
	out := url.Values{}
	var bad error
	n := 0
	s := string(body)
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		if strings.Contains(pair, ";") {
			bad = errBadForm
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			bad = errBadForm
			continue
		}
		if n == MaxFields {
			return out, errTooMany
		}
		out[k] = append(out[k], v)
		n++
	}
	return out, bad
}

func parseMultipart(body []byte, boundary string) (url.Values, bool, error) {
	out := url.Values{}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	n, files := 0, false
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, files, nil
		}
		if err != nil {
			return out, files, errBadMultipart
		}
		if parts == maxParts {
			_ = p.Close()
			return out, files, errTooMany
		}
		name := p.FormName()
		if name == "" || p.FileName() != "" {
			files = files || p.FileName() != ""
			_ = p.Close()
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, maxFieldValue+1))
		_ = p.Close()
		switch {
		case err != nil:
			return out, files, errBadMultipart
		case len(v) > maxFieldValue:
			return out, files, errLongPart
		case n == MaxFields:
			return out, files, errTooMany
		}
		out[name] = append(out[name], string(v))
		n++
	}
}

// parseJSONFields reads the scalar members of a top-level JSON object.
func parseJSONFields(body []byte) (url.Values, error) {
	if out, ok := scanFlatJSON(body); ok {
		return out, nil
	}
	return decodeJSONFields(body)
}

// scanFlatJSON is the fast path of parseJSONFields for the common login
// body: one flat object of plain strings (no escapes, valid UTF-8),
// numbers, booleans and nulls, of at most MaxFields members, followed by
// nothing but space. On anything else it reports false and
// decodeJSONFields, the reference, reads the body; where it succeeds the
// two agree (FuzzScanFlatJSON).
func scanFlatJSON(b []byte) (url.Values, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	out := url.Values{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, skipSpace(b, i+1) == len(b)
	}
	n := 0
	for {
		key, j, ok := scanPlainString(b, i)
		if !ok {
			return nil, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return nil, false
		}
		var v string
		null := false
		switch c := b[i]; {
		case c == '"':
			if v, i, ok = scanPlainString(b, i); !ok {
				return nil, false
			}
		case c == '-' || (c >= '0' && c <= '9'):
			j := scanNumber(b, i)
			if j < 0 {
				return nil, false
			}
			v, i = string(b[i:j]), j
		case bytes.HasPrefix(b[i:], []byte("true")):
			v, i = "true", i+4
		case bytes.HasPrefix(b[i:], []byte("false")):
			v, i = "false", i+5
		case bytes.HasPrefix(b[i:], []byte("null")):
			null, i = true, i+4
		default: // nesting or garbage: the reference decides
			return nil, false
		}
		if !null {
			if n == MaxFields {
				return nil, false
			}
			out[key] = append(out[key], v)
			n++
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case '}':
			return out, skipSpace(b, i+1) == len(b)
		case ',':
			i = skipSpace(b, i+1)
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanPlainString reads the JSON string at b[i] when it has no escape, no
// control character and is valid UTF-8, returning it and the index after
// its closing quote.
func scanPlainString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s := b[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return "", 0, false
			}
			return string(s), j + 1, true
		case c == '\\' || c < 0x20:
			return "", 0, false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", 0, false
}

// scanNumber returns the index after the JSON number at b[i], or -1.
func scanNumber(b []byte, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// decodeJSONFields is parseJSONFields through encoding/json's tokenizer.
func decodeJSONFields(body []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errBadJSON
	}
	out := url.Values{}
	n := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out, errBadJSON
		}
		key, ok := t.(string)
		if !ok {
			return out, errBadJSON
		}
		t, err = dec.Token()
		if err != nil {
			return out, errBadJSON
		}
		var v string
		switch t := t.(type) {
		case string:
			v = t
		case json.Number:
			v = t.String()
		case bool:
			v = "false"
			if t {
				v = "true"
			}
		case json.Delim: // '{' or '[': skip the nested value
			if !skipNested(dec) {
				return out, errBadJSON
			}
			continue
		default: // null
			continue
		}
		if n == MaxFields {
			return out, errTooMany
		}
		out[key] = append(out[key], v)
		n++
	}
	// The closing brace, then nothing but space.
	if _, err := dec.Token(); err != nil {
		return out, errBadJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return out, errBadJSON
	}
	return out, nil
}

// skipNested reads the tokens of a nested object or array whose opening
// delimiter was just read.
func skipNested(dec *json.Decoder) bool {
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return true
}
