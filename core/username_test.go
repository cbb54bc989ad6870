package core_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/goaxes/axes/core"
)

func TestCanonicalUsername(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "already canonical", in: "alice", want: "alice"},
		{name: "upper case", in: "ALICE", want: "alice"},
		{name: "title case", in: "Alice", want: "alice"},
		{name: "surrounding spaces", in: "  alice\t\n", want: "alice"},
		{name: "unicode spaces", in: "\u00a0\u3000alice\u2003", want: "alice"},
		{name: "fullwidth", in: "ａｌｉｃｅ", want: "alice"},
		{name: "fullwidth upper", in: "ＡＬＩＣＥ", want: "alice"},
		{name: "inner space kept", in: "alice smith", want: "alice smith"},
		{name: "email", in: "Alice@Example.COM", want: "alice@example.com"},
		{name: "german sharp s folds", in: "Straße", want: "strasse"},
		{name: "capital sharp s folds", in: "STRASSE", want: "strasse"},
		{name: "kelvin sign", in: "\u212Aelvin", want: "kelvin"},
		{name: "final sigma", in: "ΟΔΥΣΣΕΥΣ", want: "οδυσσευσ"},
		{name: "composed and decomposed agree", in: "Jose\u0301", want: "josé"},
		{name: "ligature", in: "ﬁnn", want: "finn"},
		{name: "NUL removed", in: "ali\x00ce", want: "alice"},
		{name: "control removed", in: "\x1balice\x7f", want: "alice"},
		{name: "zero-width space removed", in: "ali\u200bce", want: "alice"},
		{name: "invalid UTF-8 replaced", in: "al\xffice", want: "al\ufffdice"},
		{name: "empty", in: "", want: ""},
		{name: "only spaces", in: "   ", want: ""},
		{name: "cyrillic stays distinct", in: "аlice", want: "аlice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := core.CanonicalUsername(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, core.CanonicalUsername(got), "not idempotent")
		})
	}
}

func TestCanonicalUsernameCapsLength(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "ascii megabyte", in: strings.Repeat("a", 1<<20)},
		{name: "upper ascii", in: strings.Repeat("A", 1000)},
		{name: "multi-byte runes", in: strings.Repeat("é", 1000)},
		{name: "four-byte runes", in: "a" + strings.Repeat("😀", 200)},
		{name: "space at the cut", in: strings.Repeat("a", 255) + " b"},
		{name: "expanding runes", in: strings.Repeat("\uFDFA", 1<<18)},
		{name: "combining marks", in: strings.Repeat("\u0301", 1<<19)},
		{name: "invalid continuation bytes", in: strings.Repeat("\x80", 5000)},
		{name: "long leading spaces", in: strings.Repeat(" ", 1<<20) + "Alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := core.CanonicalUsername(tt.in)
			assert.LessOrEqual(t, len(got), core.MaxUsernameBytes)
			assert.Positive(t, len(got))
			assert.True(t, utf8.ValidString(got))
			assert.Equal(t, got, strings.TrimSpace(got))
			assert.Equal(t, got, core.CanonicalUsername(got), "not idempotent")
		})
	}
}

func TestCanonicalUsernameFastPathDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = core.CanonicalUsername("alice@example.com") })
	assert.Zero(t, allocs)
}

func BenchmarkCanonicalUsername(b *testing.B) {
	cases := []struct{ name, in string }{
		{name: "ascii-canonical", in: "alice@example.com"},
		{name: "ascii-upper", in: "Alice@Example.com"},
		{name: "unicode", in: "  Ｊｏｓｅ\u0301 Straße "},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = core.CanonicalUsername(c.in)
				}
			})
		})
	}
}
