package visible_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/goaxes/axes/internal/visible"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"alice":                   "alice",
		"Mozilla/5.0 (X11)":       "Mozilla/5.0 (X11)",
		"élodie ｂｏｂ 日本":           "élodie ｂｏｂ 日本",
		"a\x1b[2Jb":               `a\x1b[2Jb`,
		"nul\x00here":             `nul\x00here`,
		"evil\u202etxt.exe":       `evil\u202etxt.exe`,
		"zero\u200bwidth":         `zero\u200bwidth`,
		"\ufeffbom\u00adsoft":     `\ufeffbom\u00adsoft`,
		"\u2066isolate\u2069":     `\u2066isolate\u2069`,
		"tab\tline\nfeed\rreturn": `tab\tline\nfeed\rreturn`,
		"c1\u0085\u009bcontrol":   `c1\u0085\u009bcontrol`,
		"bad\xffutf8":             "bad\uFFFDutf8",
		"\x01":                    `\x01`,
		"\U000E0041tag":           `\U000e0041tag`,
	} {
		assert.Equal(t, want, visible.String(in, 0), "String(%q, 0)", in)
	}
}

func TestStringCuts(t *testing.T) {
	assert.Equal(t, "abc…", visible.String("abcdef", 3))
	assert.Equal(t, "abc", visible.String("abc", 3))
	assert.Equal(t, `a\u202e…`, visible.String("a\u202ebc", 2), "an escape counts as one rune")
	assert.Equal(t, "日本…", visible.String("日本語", 2))
}

func TestLines(t *testing.T) {
	assert.Equal(t, "user=\\u202ealice\npassword=********\n", visible.Lines("user=\u202ealice\npassword=********\n"))
	assert.Equal(t, `a=\x1b[31m\r`+"\n", visible.Lines("a=\x1b[31m\r\n"))
}
