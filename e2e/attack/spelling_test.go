package attack_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSpellingG3: spellings of one username share one counter (trimmed,
// case-folded, Unicode compatibility forms), and a username equal to an IP
// address never shares that address's counter (docs/design.md G3).
func TestSpellingG3(t *testing.T) {
	t.Parallel()
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			t.Run("spellings share a counter", func(t *testing.T) {
				t.Parallel()
				a := startApp(t, fw, "AXES_LOCKOUT_PARAMETERS=username", "AXES_FAILURE_LIMIT=4")
				// Each spelling from an address of its own: only the
				// username can tie them together.
				r := mustPost(t, client(t, nextIP(), 1), a.base+"/login", "form", formBody("username", "Alice", "password", "x"))
				assert.Equal(t, 3, attemptsLeft(r.body), "Alice: %d", r.status)
				r = mustPost(t, client(t, nextIP(), 1), a.base+"/login", "form", formBody("username", "ALICE", "password", "x"))
				assert.Equal(t, 2, attemptsLeft(r.body), "ALICE counts on Alice's counter (%d)", r.status)
				r = mustPost(t, client(t, nextIP(), 1), a.base+"/api/login", "json", jsonLogin(" alice ", "x"))
				assert.Equal(t, 403, r.status, "' alice ' as JSON: a failure")
				r = mustPost(t, client(t, nextIP(), 1), a.base+"/login", "form", formBody("username", "ａｌｉｃｅ", "password", "x"))
				assert.Equal(t, 429, r.status, "fullwidth ａｌｉｃｅ is the 4th failure of alice: the lockout")
				r = mustPost(t, client(t, nextIP(), 1), a.base+"/login", "form", formBody("username", "alice", "password", "wonderland"))
				assert.Equal(t, 429, r.status, "alice is locked, even with the right password from a new address")
				r = mustPost(t, client(t, nextIP(), 1), a.base+"/login", "form", formBody("username", "bob", "password", "x"))
				assert.Equal(t, 3, attemptsLeft(r.body), "bob has a counter of his own (%d)", r.status)
			})
			t.Run("username equal to an IP", func(t *testing.T) {
				t.Parallel()
				a := startApp(t, fw, "AXES_LOCKOUT_PARAMETERS=username,ip_address")
				attacker, victim := nextIP(), nextIP()
				c := client(t, attacker, 1)
				for i, want := range []int{401, 401, 429} {
					r := mustPost(t, c, a.base+"/login", "form", formBody("username", victim, "password", "x"))
					assert.Equal(t, want, r.status, "attempt %d with the username %q", i+1, victim)
				}
				// The username "<victim's IP>" failed 3 times from the attacker:
				// the victim's address must not be locked by it.
				r := mustPost(t, client(t, victim, 1), a.base+"/login", "form", formBody("username", "carol", "password", "x"))
				assert.Equal(t, 401, r.status)
				assert.Equal(t, 2, attemptsLeft(r.body), "the victim's address has its own, fresh counter")
				// And the attacker's address used as a username from elsewhere
				// is a fresh username, though the address is locked.
				r = mustPost(t, client(t, nextIP(), 1), a.base+"/login", "form", formBody("username", attacker, "password", "x"))
				assert.Equal(t, 401, r.status)
				assert.Equal(t, 2, attemptsLeft(r.body), "the username %q is not the address %s", attacker, attacker)
			})
		})
	}
}
