package core

import (
	"strings"
	"testing"
)

// foldName(a) == foldName(b) exactly when strings.EqualFold(a, b), the
// matching of encoding/json.
func FuzzFoldName(f *testing.F) {
	for _, c := range [][2]string{
		{"Paſſword", "password"}, {"to\u212Aen", "TOKEN"}, {"ſ", "S"}, {"\u212A", "k"}, {"Σ", "ς"}, {"σ", "ς"},
		{"Paßword", "password"}, {"\xff", "\uFFFD"}, {"\xff", "\xfe"}, {"İ", "i"}, {"ǅ", "ǆ"}, {"Ω", "\u2126"}, {"", "a"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := foldName(a) == foldName(b), strings.EqualFold(a, b); got != want {
			t.Fatalf("foldName(%q) = %q, foldName(%q) = %q; EqualFold = %v", a, foldName(a), b, foldName(b), want)
		}
		if foldName(foldName(a)) != foldName(a) {
			t.Fatalf("foldName(%q) = %q is not a fixed point", a, foldName(a))
		}
	})
}

func TestFoldNameNoAllocation(t *testing.T) {
	for _, s := range []string{"password", "csrfmiddlewaretoken", "new_password", "ip_address"} {
		if got := foldName(s); got != s {
			t.Errorf("foldName(%q) = %q", s, got)
		}
		if n := testing.AllocsPerRun(100, func() { _ = foldName(s) }); n != 0 {
			t.Errorf("foldName(%q): %v allocations", s, n)
		}
	}
}
