// Package redact hides the secrets of the store addresses that the stores
// accept: URLs (postgres://, postgresql://, redis://, rediss://, unix://
// and any other scheme://) and PostgreSQL keyword/value connection strings
// (host=db password=secret). String shows an address without them, for
// logs; Message and Error take them out of an error message, wherever a
// driver echoes them, whole or in part.
//
// The secrets of an address are the password of its user info, the value
// of every parameter whose name, in any case and once percent-decoded,
// holds "password", "passwd", "secret" or "token" (PostgreSQL's password
// and sslpassword among them), and the same in the keyword/value form,
// quoted or not. A password may hold a character that ends the user info
// for one parser and not for another (an unescaped @, /, ?, # or :): the
// parts before and after it, which such a parser reads as the user name,
// the host, the port or the database and a driver then quotes in its
// error, are secrets too.
package redact

import (
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Mask stands for a secret.
const Mask = "xxxxx"

// String returns s with every secret replaced by Mask.
func String(s string) string {
	out, _ := parse(s)
	return out
}

// Message returns msg with every secret of s, in every spelling a driver
// may quote it in, replaced by Mask.
func Message(msg, s string) string {
	_, secrets := parse(s)
	for _, r := range replacements(secrets) {
		if r.token {
			msg = replaceToken(msg, r.old, r.new)
		} else {
			msg = strings.ReplaceAll(msg, r.old, r.new)
		}
	}
	return msg
}

// Error returns err when its message holds no secret of s, and otherwise
// an error with the message that Message makes of it. That error matches
// what err matches with errors.Is, but does not unwrap to it: the errors
// inside may quote the secret.
func Error(err error, s string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if m := Message(msg, s); m != msg {
		return &hidden{msg: m, err: err}
	}
	return err
}

type hidden struct {
	msg string
	err error
}

func (h *hidden) Error() string { return h.msg }

func (h *hidden) Is(target error) bool { return errors.Is(h.err, target) }

// secret is a text to hide. A part is the part of a password before or
// after a character that some parser takes for the end of the user info
// (an @, :, /, ? or #), and so may read as a user name or a host (and a
// driver quote it as one): it is hidden wherever it is followed by an "@",
// and when it is too short to be hidden anywhere (it would mask letters of
// ordinary words), wherever it is a word of its own, as a name is.
//
// A value of the keyword/value form may hold white space, where a driver's
// own redaction may stop: its words are hidden too, the long ones anywhere.
type secret struct {
	text  string
	part  bool
	words bool
}

// minFragment is the length from which a part of a secret is hidden
// wherever it shows.
const minFragment = 4

type replacement struct {
	old, new string
	token    bool // only where old is a word of its own
}

// replacements returns the replacements that hide secrets, longest old
// first.
func replacements(secrets []secret) []replacement {
	seen := map[replacement]bool{}
	var rs []replacement
	add := func(r replacement) {
		if r.old == "" || r.old == r.new || seen[r] {
			return
		}
		seen[r] = true
		rs = append(rs, r)
	}
	for _, s := range secrets {
		for _, v := range spellings(s.text) {
			add(replacement{old: v, new: Mask, token: s.part && len(v) < minFragment})
			if s.part {
				add(replacement{old: v + "@", new: Mask + "@"})
			}
		}
		if !s.words {
			continue
		}
		for _, f := range strings.FieldsFunc(s.text, isSeparator) {
			if len(f) >= minFragment {
				for _, v := range spellings(f) {
					add(replacement{old: v, new: Mask})
				}
			}
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return len(rs[i].old) > len(rs[j].old) })
	return rs
}

// replaceToken replaces old with new in s where old is neither preceded
// nor followed by a letter, a digit or one of "._-".
func replaceToken(s, old, new string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			break
		}
		j := i + len(old)
		if (i == 0 || !isWord(s[i-1])) && (j == len(s) || !isWord(s[j])) {
			b.WriteString(s[:i] + new)
		} else {
			b.WriteString(s[:j])
		}
		s = s[j:]
	}
	b.WriteString(s)
	return b.String()
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// spellings returns s as written, decoded and encoded in the ways a
// message may quote it.
func spellings(s string) []string {
	vs := []string{s}
	if d, err := url.PathUnescape(s); err == nil {
		vs = append(vs, d)
	}
	if d, err := url.QueryUnescape(s); err == nil {
		vs = append(vs, d)
	}
	for _, v := range vs[:len(vs):len(vs)] {
		vs = append(vs, url.QueryEscape(v), url.PathEscape(v), url.UserPassword("", v).String()[1:])
		if q := strconv.Quote(v); len(q) > 2 {
			vs = append(vs, q[1:len(q)-1])
		}
	}
	return vs
}

func isSeparator(r rune) bool {
	return strings.ContainsRune("'\\ \t\n\r\v\f", r)
}

// secretName reports whether the parameter or keyword k names a secret.
func secretName(k string) bool {
	if d, err := url.QueryUnescape(k); err == nil {
		k = d
	}
	k = strings.ToLower(strings.TrimSpace(k))
	for _, w := range []string{"password", "passwd", "secret", "token"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return k == "pass" || k == "pwd"
}

// parse returns s with its secrets masked, and the secrets.
func parse(s string) (string, []secret) {
	switch {
	case s == "" || s == "memory" || strings.HasPrefix(s, "sqlite:"):
		return s, nil
	case isURL(s):
		return parseURL(s)
	case strings.Contains(s, "="):
		return parseKeywords(s)
	case strings.Contains(s, "@"):
		// user:password@host without a scheme.
		at := strings.LastIndex(s, "@")
		info := s[:at]
		var secrets []secret
		if _, pw, ok := strings.Cut(info, ":"); ok {
			secrets = passwordSecrets(pw)
		} else {
			secrets = passwordSecrets(info)
		}
		return Mask + s[at:], secrets
	}
	return s, nil
}

// isURL reports whether s starts with "scheme://".
func isURL(s string) bool {
	i := strings.Index(s, "://")
	return i >= 0 && !strings.ContainsAny(s[:i], "= \t\n\r\v\f")
}

// passwordSecrets returns the password pw and its parts.
func passwordSecrets(pw string) []secret {
	if pw == "" {
		return nil
	}
	secrets := []secret{{text: pw}}
	for i := 0; i < len(pw); i++ {
		if strings.IndexByte("@:/?#", pw[i]) >= 0 {
			secrets = append(secrets, secret{text: pw[:i], part: true}, secret{text: pw[i+1:], part: true})
		}
	}
	return secrets
}

// parseURL masks the password of the user info and the values of the
// secret query parameters, in every reading of s that a parser may make:
// the user info ends at the last "@" (url.Parse), or at the first
// (PostgreSQL's driver), so that a password with an unescaped @, /, ? or #
// is masked whole; the query starts at the first "?" (the driver, when the
// "@" of a value makes it take the query for user info), or at the first
// after the user info.
func parseURL(s string) (string, []secret) {
	start := strings.Index(s, "://") + 3
	rest := s[start:]
	var spans [][2]int // of rest, masked
	var secrets []secret
	at := strings.LastIndex(rest, "@")
	if at >= 0 {
		if c := strings.IndexByte(rest[:at], ':'); c >= 0 && c+1 < at {
			spans = append(spans, [2]int{c + 1, at})
			secrets = append(secrets, passwordSecrets(rest[c+1:at])...)
		}
	}
	for _, from := range []int{0, at + 1} {
		q := strings.IndexByte(rest[from:], '?')
		if q < 0 {
			continue
		}
		off := from + q + 1
		for _, pair := range strings.Split(rest[off:], "&") {
			k, v, ok := strings.Cut(pair, "=")
			if ok && v != "" && secretName(k) {
				spans = append(spans, [2]int{off + len(k) + 1, off + len(pair)})
				secrets = append(secrets, passwordSecrets(v)...)
			}
			off += len(pair) + 1
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	var b strings.Builder
	b.WriteString(s[:start])
	end := 0
	for n, sp := range spans {
		if n > 0 && sp[0] <= end { // overlaps the previous span: extend it
			end = max(end, sp[1])
			continue
		}
		b.WriteString(rest[end:sp[0]])
		b.WriteString(Mask)
		end = sp[1]
	}
	b.WriteString(rest[end:])
	return b.String(), secrets
}

// parseKeywords masks the values of the secret keywords of a keyword/value
// connection string, read as libpq reads it: keyword = value, the value
// either up to the next white space (a backslash escaping the character
// after it) or 'quoted' (a backslash escaping a quote or a backslash). An
// unterminated quote runs to the end, all of it masked.
func parseKeywords(s string) (string, []secret) {
	var b strings.Builder
	var secrets []secret
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			b.WriteString(s)
			break
		}
		key := ""
		if f := strings.Fields(s[:eq]); len(f) > 0 {
			key = f[len(f)-1]
		}
		b.WriteString(s[:eq+1])
		s = s[eq+1:]
		v := strings.TrimLeft(s, " \t\n\r\v\f")
		b.WriteString(s[:len(s)-len(v)])
		s = v
		var raw, val string
		quoted, closed := len(s) > 0 && s[0] == '\'', false
		if quoted {
			end := 1
			for ; end < len(s) && s[end] != '\''; end++ {
				if s[end] == '\\' {
					end++
				}
			}
			if end < len(s) {
				raw, s, closed = s[1:end], s[end+1:], true
			} else {
				raw, s = s[1:], ""
			}
		} else {
			end := 0
			for ; end < len(s) && !strings.ContainsRune(" \t\n\r\v\f", rune(s[end])); end++ {
				if s[end] == '\\' {
					end++
				}
			}
			end = min(end, len(s))
			raw, s = s[:end], s[end:]
		}
		val = unescape(raw)
		if !secretName(key) {
			b.WriteString(strings.Repeat("'", btoi(quoted)) + raw + strings.Repeat("'", btoi(closed)))
			continue
		}
		if raw == "" {
			b.WriteString(strings.Repeat("'", btoi(quoted)+btoi(closed)))
			continue
		}
		b.WriteString(strings.Repeat("'", btoi(quoted)) + Mask + strings.Repeat("'", btoi(closed)))
		secrets = append(secrets, secret{text: raw, words: true})
		if val != raw {
			secrets = append(secrets, secret{text: val, words: true})
		}
	}
	return b.String(), secrets
}

// unescape drops each backslash and keeps the character after it.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				break
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
