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
// part after it, which such a parser reads as the host, the port or the
// database and a driver then quotes in its error, is a secret too.
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
		msg = strings.ReplaceAll(msg, r[0], r[1])
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

// secret is a text to hide. A tail is the part of a password after a
// character that some parser takes for the end of the user info: it is
// hidden wherever it is followed by the "@" that ended the user info, and
// anywhere when it is long enough not to be an everyday word.
type secret struct {
	text string
	tail bool
}

// minFragment is the length from which a part of a secret is hidden
// wherever it shows: shorter ones would mask letters of ordinary words.
const minFragment = 4

// replacements returns the (old, new) pairs that hide secrets, longest old
// first.
func replacements(secrets []secret) [][2]string {
	seen := map[string]bool{}
	var rs [][2]string
	add := func(old, new string) {
		if old == "" || old == new || seen[old] {
			return
		}
		seen[old] = true
		rs = append(rs, [2]string{old, new})
	}
	for _, s := range secrets {
		for _, v := range spellings(s.text) {
			if !s.tail || len(v) >= minFragment {
				add(v, Mask)
			}
			if s.tail {
				add(v+"@", Mask+"@")
			}
		}
		if s.tail {
			continue
		}
		// A driver that splits the secret where another parser would not
		// quotes its parts: hide the long ones.
		for _, f := range strings.FieldsFunc(s.text, isSeparator) {
			if len(f) >= minFragment {
				for _, v := range spellings(f) {
					add(v, Mask)
				}
			}
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return len(rs[i][0]) > len(rs[j][0]) })
	return rs
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
	return strings.ContainsRune("@:/?#&='\\ \t\n\r\v\f", r)
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

// passwordSecrets returns the password pw of a user info and its tails.
func passwordSecrets(pw string) []secret {
	if pw == "" {
		return nil
	}
	secrets := []secret{{text: pw}}
	for i := 0; i < len(pw); i++ {
		if strings.IndexByte("@:/?#", pw[i]) >= 0 && i+1 < len(pw) {
			secrets = append(secrets, secret{text: pw[i+1:], tail: true})
		}
	}
	return secrets
}

// parseURL masks the password of the user info, which ends at the last
// "@" (so that a password with an unescaped @, /, ? or # is masked whole),
// and the values of the secret query parameters.
func parseURL(s string) (string, []secret) {
	i := strings.Index(s, "://") + 3
	var b strings.Builder
	b.WriteString(s[:i])
	rest := s[i:]
	var secrets []secret
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, pw, ok := strings.Cut(rest[:at], ":")
		b.WriteString(user)
		switch {
		case ok && pw != "":
			b.WriteString(":" + Mask)
			secrets = passwordSecrets(pw)
		case ok:
			b.WriteByte(':')
		}
		b.WriteByte('@')
		rest = rest[at+1:]
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		b.WriteString(rest)
		return b.String(), secrets
	}
	b.WriteString(rest[:q+1])
	for n, pair := range strings.Split(rest[q+1:], "&") {
		if n > 0 {
			b.WriteByte('&')
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || v == "" || !secretName(k) {
			b.WriteString(pair)
			continue
		}
		b.WriteString(k + "=" + Mask)
		secrets = append(secrets, secret{text: v})
	}
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
		secrets = append(secrets, secret{text: raw})
		if val != raw {
			secrets = append(secrets, secret{text: val})
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
