package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxFields caps the fields ParseFields returns, values counted one by one.
const MaxFields = 1000

// maxFieldValue caps one multipart value.
const maxFieldValue = 4 << 10

// maxParts caps the multipart parts looked at, file parts included.
const maxParts = 2 * MaxFields

// ReadBody reads at most max+1 bytes of body to find the username and
// returns them as prefix, with restored: a ReadCloser that yields prefix
// followed by the rest of body (the login handler still sees every byte)
// and closes body on Close. complete is false when body is longer than max;
// callers then treat it as carrying no username. A read error is returned
// with what was read; restored is still usable. Callers must not modify
// prefix. A nil body gives a nil restored body.
func ReadBody(body io.ReadCloser, max int64) (prefix []byte, restored io.ReadCloser, complete bool, err error) {
	if body == nil {
		return nil, nil, true, nil
	}
	if max < 0 {
		max = 0
	}
	limit := max
	if limit < math.MaxInt64 {
		limit++
	}
	prefix, err = io.ReadAll(io.LimitReader(body, limit))
	restored = &restoredBody{Reader: io.MultiReader(bytes.NewReader(prefix), body), body: body}
	complete = err == nil && int64(len(prefix)) <= max
	return prefix, restored, complete, err
}

// restoredBody replays the bytes read before the rest of the original body.
type restoredBody struct {
	io.Reader
	body io.Closer
}

func (r *restoredBody) Close() error { return r.body.Close() }

// ParseFields reads the fields of a request body: URL-encoded forms,
// multipart forms (fields only, never files; each value capped at 4 KiB)
// and JSON objects (application/json or any +json type: top-level string
// values, and numbers and booleans as their text; nested values and null
// are skipped; a body that is not an object gives nothing). Parse errors
// end the parse and keep what was read. An incomplete body or another
// content type gives nil. At most MaxFields values are returned; the
// result never aliases body.
func ParseFields(contentType string, body []byte, complete bool) url.Values {
	if !complete {
		return nil
	}
	// The two usual spellings skip the MIME parser, which allocates.
	switch contentType {
	case "application/x-www-form-urlencoded":
		return parseURLEncoded(body)
	case "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8":
		return parseJSONFields(body)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return nil
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		return parseURLEncoded(body)
	case mt == "multipart/form-data":
		if params["boundary"] == "" {
			return nil
		}
		return parseMultipart(body, params["boundary"])
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return parseJSONFields(body)
	}
	return nil
}

// parseURLEncoded is url.ParseQuery that keeps what parses, stops at
// MaxFields and, as ParseQuery, skips pairs with a semicolon.
func parseURLEncoded(body []byte) url.Values {
	out := url.Values{}
	n := 0
	s := string(body)
	for s != "" && n < MaxFields {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		out[k] = append(out[k], v)
		n++
	}
	return out
}

func parseMultipart(body []byte, boundary string) url.Values {
	out := url.Values{}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	n := 0
	for parts := 0; parts < maxParts && n < MaxFields; parts++ {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		name := p.FormName()
		if name == "" || p.FileName() != "" {
			_ = p.Close()
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, maxFieldValue))
		_ = p.Close()
		if err != nil {
			break
		}
		out[name] = append(out[name], string(v))
		n++
	}
	return out
}

// parseJSONFields reads the scalar members of a top-level JSON object. A
// repeated member keeps its last value, as encoding/json does.
func parseJSONFields(body []byte) url.Values {
	if out, ok := scanFlatJSON(body); ok {
		return out
	}
	return decodeJSONFields(body)
}

// scanFlatJSON is the fast path of parseJSONFields for the common login
// body: one flat object of plain strings (no escapes, valid UTF-8),
// numbers, booleans and nulls. On anything else (escapes, nesting, a
// syntax error) it reports false and decodeJSONFields, the reference,
// reads the body; where it succeeds the two agree (FuzzScanFlatJSON).
func scanFlatJSON(b []byte) (url.Values, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	out := url.Values{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, true
	}
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
			if _, seen := out[key]; seen || len(out) < MaxFields {
				out[key] = []string{v}
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case '}':
			return out, true
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
func decodeJSONFields(body []byte) url.Values {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	out := url.Values{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		key, ok := t.(string)
		if !ok {
			break
		}
		t, err = dec.Token()
		if err != nil {
			break
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
				return out
			}
			continue
		default: // null
			continue
		}
		if _, seen := out[key]; !seen && len(out) >= MaxFields {
			continue
		}
		out[key] = []string{v}
	}
	return out
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

// UsernameField returns the first value of field in fields. When fields has
// no such key, it falls back to a key equal to field under Unicode case
// folding (the smallest such key, for determinism): encoding/json matches
// struct fields case-insensitively, so a Go login handler may read
// {"USERNAME": …} as the username and axes must count it too.
func UsernameField(fields url.Values, field string) string {
	if vs := fields[field]; len(vs) > 0 {
		return vs[0]
	}
	best, found := "", false
	for k, vs := range fields {
		if len(vs) > 0 && strings.EqualFold(k, field) && (!found || k < best) {
			best, found = k, true
		}
	}
	if found {
		return fields[best][0]
	}
	return ""
}
