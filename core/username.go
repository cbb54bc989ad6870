package core

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxUsernameBytes caps a canonical username, so that a megabyte of
// username never becomes a megabyte of key.
const MaxUsernameBytes = 256

// maxUsernameInput is how much of a long username (after leading spaces
// and control characters) CanonicalUsername looks at.
const maxUsernameInput = 4 * MaxUsernameBytes

// folders pools case folders: a cases.Caser is stateful and must not be
// shared between goroutines.
var folders = sync.Pool{New: func() any { c := cases.Fold(); return &c }}

// CanonicalUsername returns the form of a username that lockout keys use
// (docs/design.md G3), so that spelling variants share one counter: invalid UTF-8
// becomes U+FFFD; control and format characters (NUL, zero-width space,
// …) are removed; the rest is NFKC-normalised, Unicode case-folded,
// NFKC-normalised again, trimmed of Unicode spaces and cut to
// MaxUsernameBytes at a rune boundary. "Alice", " ALICE ", "ａｌｉｃｅ" all
// give "alice". It is idempotent and safe for concurrent use; printable
// lower-case ASCII is returned as is, without allocating.
func CanonicalUsername(s string) string {
	if isCanonicalASCII(s) {
		return s
	}
	if isPrintableASCII(s) {
		// NFKC leaves printable ASCII alone and folding is lower-casing.
		return strings.TrimSpace(cutAtRune(strings.ToLower(strings.TrimSpace(s)), MaxUsernameBytes))
	}
	// Bound the work: NFKC can grow a rune 18 times, so a long input could
	// cost a second of CPU. Only the start of a username can reach the key.
	if len(s) > maxUsernameInput {
		s = strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || dropControl(r) < 0 })
		if len(s) > maxUsernameInput {
			s = cutAtRune(s, maxUsernameInput)
		}
	}
	// One round is a fixed point for almost every input; repeat (a bounded
	// number of times) for the rare sequences whose folding composes anew.
	for i := 0; i < 4; i++ {
		t := canonicalRound(s)
		if t == s {
			break
		}
		s = t
	}
	return s
}

func canonicalRound(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(dropControl, s)
	s = norm.NFKC.String(s)
	c := folders.Get().(*cases.Caser)
	s = c.String(s)
	folders.Put(c)
	s = norm.NFKC.String(s)
	s = strings.TrimSpace(s)
	if len(s) > MaxUsernameBytes {
		s = strings.TrimSpace(cutAtRune(s, MaxUsernameBytes))
	}
	return s
}

// cutAtRune returns s cut to at most n bytes, not inside a valid UTF-8
// sequence.
func cutAtRune(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return s[:n] // not UTF-8 there anyway
}

// dropControl removes control (Cc) and format (Cf) characters.
func dropControl(r rune) rune {
	if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
		return -1
	}
	return r
}

// isCanonicalASCII reports whether s is already canonical: printable ASCII
// without upper case, no surrounding spaces, within the length cap.
func isCanonicalASCII(s string) bool {
	if len(s) > MaxUsernameBytes {
		return false
	}
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// isPrintableASCII reports whether s has only bytes 0x20..0x7e.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
