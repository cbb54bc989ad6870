// Package visible makes attacker-controlled text (usernames, user agents,
// paths, form data) safe to show to a person, in a terminal (the axes CLI)
// or on a web page (the admin page): every character that is invisible or
// that changes how the text around it is shown is spelt out instead.
package visible

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s with every control and format character spelt as its
// Go escape: terminal escape sequences and NUL (\x1b, \x00), bidi controls
// that reverse the text around them (\u202e), zero-width characters that
// hide (\u200b, \ufeff), tabs and line breaks. Invalid UTF-8 becomes
// U+FFFD. It keeps at most max runes of s and marks a cut with "…"; max
// <= 0 keeps them all. Printable text comes back as it is.
func String(s string, max int) string { return escape(s, max, false) }

// Lines is String for text of several lines (an attempt's GET and POST
// data, one "name=value" a line): the line feeds stay, nothing is cut.
func Lines(s string) string { return escape(s, 0, true) }

// escape is String and Lines: keepLF keeps line feeds.
func escape(s string, max int, keepLF bool) string {
	if plain(s, max) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if max > 0 && n >= max {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case r == '\n' && keepLF:
			b.WriteByte('\n')
		case r == utf8.RuneError:
			b.WriteRune(r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plain reports whether s is printable ASCII of at most max bytes (any
// length when max <= 0): nothing to escape or cut.
func plain(s string, max int) bool {
	if max > 0 && len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
