package attack_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// failures sends n wrong-password form attempts for alice, the i-th with
// the headers hdr(i) gives, one after the other, and returns the statuses
// and the number of password checks they caused.
func failures(t *testing.T, a *app, c *http.Client, n int, hdr func(i int) []string) ([]int, int64) {
	t.Helper()
	before := a.probe(t).Checks
	var statuses []int
	for i := range n {
		r := mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", fmt.Sprint("nope", i)), hdr(i)...)
		statuses = append(statuses, r.status)
	}
	return statuses, a.probe(t).Checks - before
}

// lockedAtThree is what limit 3 gives n attempts from one client: two
// 401s, then the lockout.
func lockedAtThree(n int) []int {
	want := []int{401, 401}
	for len(want) < n {
		want = append(want, 429)
	}
	return want
}

// TestSpoofingG2: forwarded headers from an untrusted peer change nothing;
// behind a trusted proxy they are honoured, walked right to left, so a
// spoofed left-most value cannot escape the right-most untrusted hop; IPv6
// clients rotating inside one /64 share one counter (docs/design.md G2; django-axes
// issues #132, #224).
func TestSpoofingG2(t *testing.T) {
	t.Parallel()
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			t.Run("untrusted peer", func(t *testing.T) {
				t.Parallel()
				// No trusted proxies, then trusted proxies that do not
				// cover the loopback peer: both must ignore every header.
				for _, env := range [][]string{nil, {"AXES_TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16"}} {
					a := startApp(t, fw, env...)
					rotations := map[string]func(i int) []string{
						"X-Forwarded-For": func(i int) []string {
							return []string{"X-Forwarded-For", fmt.Sprintf("198.51.100.%d, 203.0.113.%d", i+1, i+1)}
						},
						"X-Real-IP": func(i int) []string { return []string{"X-Real-IP", fmt.Sprintf("203.0.113.%d", i+1)} },
						"Forwarded": func(i int) []string { return []string{"Forwarded", fmt.Sprintf("for=203.0.113.%d;proto=https", i+1)} },
						"all three": func(i int) []string {
							return []string{"X-Forwarded-For", fmt.Sprintf("10.9.8.%d", i+1), "X-Real-IP", fmt.Sprintf("10.9.9.%d", i+1),
								"Forwarded", fmt.Sprintf(`for="[2001:db8:%x::1]"`, i+1)}
						},
					}
					for name, hdr := range rotations {
						c := client(t, nextIP(), 1)
						statuses, checks := failures(t, a, c, 8, hdr)
						t.Logf("FIGURE spoof untrusted %s %s %v: statuses %v, checks %d", fw, name, env, statuses, checks)
						assert.Equal(t, lockedAtThree(8), statuses, "%s rotated by an untrusted peer (%v)", name, env)
						assert.EqualValues(t, 3, checks, "%s: password checks", name)
					}
				}
			})
			t.Run("trusted proxy X-Forwarded-For", func(t *testing.T) {
				t.Parallel()
				a := startApp(t, fw, "AXES_TRUSTED_PROXIES=127.0.0.0/8")
				c := client(t, nextIP(), 1)
				// The proxy appends the address it saw; the client rotates
				// what it sends before it.
				statuses, checks := failures(t, a, c, 8, func(i int) []string {
					return []string{"X-Forwarded-For", fmt.Sprintf("198.51.100.%d, 203.0.113.7", i+1)}
				})
				assert.Equal(t, lockedAtThree(8), statuses, "a spoofed left-most value cannot escape the right-most untrusted hop")
				assert.EqualValues(t, 3, checks)
				// Trusted hops right of the client are skipped.
				r := mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"),
					"X-Forwarded-For", "1.1.1.1, 203.0.113.7, 127.0.0.9")
				assert.Equal(t, 429, r.status, "trusted hops are skipped, 203.0.113.7 is still the client")
				r = mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"),
					"X-Forwarded-For", "203.0.113.7", "X-Forwarded-For", "127.0.0.9")
				assert.Equal(t, 429, r.status, "several header lines are one list")
				// The header is honoured: another forwarded client is fresh,
				// and the proxy itself is not the one locked.
				r = mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"), "X-Forwarded-For", "203.0.113.8")
				assert.Equal(t, 401, r.status)
				assert.Equal(t, 2, attemptsLeft(r.body), "203.0.113.8 is a client of its own")
				r = mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"))
				assert.Equal(t, 401, r.status)
				assert.Equal(t, 2, attemptsLeft(r.body), "without a header the trusted peer is the client")
			})
			t.Run("trusted proxy X-Real-IP", func(t *testing.T) {
				t.Parallel()
				a := startApp(t, fw, "AXES_TRUSTED_PROXIES=127.0.0.0/8", "AXES_CLIENT_IP_HEADER=X-Real-IP")
				c := client(t, nextIP(), 1)
				statuses, checks := failures(t, a, c, 8, func(i int) []string {
					return []string{"X-Real-IP", "203.0.113.7", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1),
						"Forwarded", fmt.Sprintf("for=198.51.101.%d", i+1)}
				})
				assert.Equal(t, lockedAtThree(8), statuses, "only the configured header is read")
				assert.EqualValues(t, 3, checks)
				r := mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"), "X-Real-IP", "203.0.113.8")
				assert.Equal(t, 2, attemptsLeft(r.body), "the header is honoured: 203.0.113.8 is fresh (%d %s)", r.status, tail(r.body, 200))
			})
			t.Run("trusted proxy Forwarded", func(t *testing.T) {
				t.Parallel()
				a := startApp(t, fw, "AXES_TRUSTED_PROXIES=127.0.0.0/8", "AXES_CLIENT_IP_HEADER=Forwarded")
				c := client(t, nextIP(), 1)
				statuses, checks := failures(t, a, c, 8, func(i int) []string {
					return []string{"Forwarded", fmt.Sprintf(`for=198.51.100.%d;proto=https, for="203.0.113.7:4711"`, i+1),
						"X-Forwarded-For", fmt.Sprintf("198.51.102.%d", i+1)}
				})
				assert.Equal(t, lockedAtThree(8), statuses, "a spoofed left-most for= cannot escape the right-most untrusted hop")
				assert.EqualValues(t, 3, checks)
				r := mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"), "Forwarded", "for=203.0.113.8")
				assert.Equal(t, 2, attemptsLeft(r.body), "the header is honoured: 203.0.113.8 is fresh (%d)", r.status)
			})
			t.Run("IPv6 inside one /64", func(t *testing.T) {
				t.Parallel()
				a := startApp(t, fw, "AXES_TRUSTED_PROXIES=127.0.0.0/8,::1")
				c := client(t, nextIP(), 1)
				statuses, checks := failures(t, a, c, 8, func(i int) []string {
					return []string{"X-Forwarded-For", fmt.Sprintf("2001:db8:aa:bb:%x:%x:%x:%x",
						rand.Uint32N(1<<16), rand.Uint32N(1<<16), rand.Uint32N(1<<16), rand.Uint32N(1<<16))}
				})
				assert.Equal(t, lockedAtThree(8), statuses, "addresses rotated inside 2001:db8:aa:bb::/64 share one counter")
				assert.EqualValues(t, 3, checks)
				r := mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"),
					"X-Forwarded-For", "[2001:db8:aa:bb::1]:443")
				assert.Equal(t, 429, r.status, "a bracketed address with a port is the same client")
				r = mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"), "X-Forwarded-For", "2001:db8:aa:bc::1")
				assert.Equal(t, 2, attemptsLeft(r.body), "the next /64 is another client (%d)", r.status)
				r = mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "x"), "X-Forwarded-For", "::ffff:203.0.113.50")
				assert.Equal(t, 2, attemptsLeft(r.body), "an IPv4-mapped address is its IPv4 client (%d)", r.status)
			})
		})
	}
}
