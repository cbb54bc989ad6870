package attack_test

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutageG6 stops Redis, then PostgreSQL (this package's own instances),
// in the middle of an attack on two apps sharing the store, one failing
// closed (the default) and one failing open: the closed one answers 503
// with Retry-After, the open one lets logins through and logs it, neither
// panics nor piles up goroutines; after a restart on the same port and
// data directory counting resumes and the failures recorded before the
// outage still count (docs/design.md G6).
func TestOutageG6(t *testing.T) {
	t.Parallel()
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		srv, err := newRedis(dir, freePort(t), true)
		requireServices(t, "redis-server", err)
		t.Cleanup(srv.kill)
		outage(t, srv.url(0), fmt.Sprintf("127.0.0.1:%d", srv.port), "nethttp", "fiber", srv.kill, func() error { return srv.start() })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		srv, err := newPG(freePort(t))
		requireServices(t, "PostgreSQL", err)
		t.Cleanup(srv.destroy)
		outage(t, srv.url("postgres"), fmt.Sprintf("127.0.0.1:%d", srv.port), "echo", "gin", func() { require.NoError(t, srv.stop()) }, srv.start)
	})
}

func outage(t *testing.T, storeURL, storeAddr, closedFW, openFW string, stop func(), restart func() error) {
	common := []string{"AXES_STORE=" + storeURL, "AXES_FAILURE_LIMIT=5", "AXES_STORE_TIMEOUT=1s"}
	closed := startApp(t, closedFW, common...)
	open := startApp(t, openFW, append(common, "AXES_FAIL_OPEN=true")...)

	// The victim's failures before the outage: 3 of 5.
	victim := client(t, nextIP(), 1)
	for i, left := range []int{4, 3, 2} {
		r := mustPost(t, victim, closed.base+"/login", "form", formBody("username", "alice", "password", "x"))
		require.Equal(t, left, attemptsLeft(r.body), "victim's failure %d (%d)", i+1, r.status)
	}
	// storeUp probes with a form missing its password: 400 when the store
	// answers (the advance count is taken back), 503 when it does not.
	prober := client(t, nextIP(), 1)
	storeUp := func(a *app) bool {
		r := post(prober, a.base+"/login", "form", formBody("username", "probe"))
		return r.err == nil && r.status == http.StatusBadRequest
	}
	require.True(t, storeUp(closed))
	g0c, g0o := closed.probe(t).Goroutines, open.probe(t).Goroutines

	// The attack: wrong passwords from one client, without pause, through
	// the outage and the restart (bounded: 4000 requests or until stopped).
	attacker := client(t, nextIP(), 1)
	var mu sync.Mutex
	attack := map[string]map[int]int{"before": {}, "during": {}, "restarting": {}, "after": {}}
	phase := "before"
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 4000; i++ {
			select {
			case <-done:
				return
			default:
			}
			r := post(attacker, closed.base+"/login", "form", formBody("username", "mallory", "password", "guess"+strconv.Itoa(i)))
			mu.Lock()
			if r.err != nil {
				attack[phase][-1]++
			} else {
				attack[phase][r.status]++
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	setPhase := func(p string) { mu.Lock(); phase = p; mu.Unlock() }
	// The attacker is locked before the outage begins (five bcrypt checks
	// take a while on a loaded machine: wait for the lockout, not a time).
	require.True(t, waitFor(60*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return attack["before"][http.StatusTooManyRequests] > 0
	}), "the attacker is locked before the outage")

	setPhase("during")
	stopped := time.Now()
	stop()
	t.Logf("the store stopped in %s", time.Since(stopped).Round(time.Millisecond))
	if _, err := net.DialTimeout("tcp", storeAddr, time.Second); err == nil {
		t.Fatalf("the store still accepts connections on %s after it was stopped", storeAddr)
	}
	require.True(t, waitFor(10*time.Second, func() bool { return !storeUp(closed) }), "the closed app notices the outage")

	t.Logf("the app noticed in %s", time.Since(stopped).Round(time.Millisecond))
	// Fail closed: 503 with Retry-After, whatever the password.
	for _, pw := range []string{"x", "wonderland"} {
		r := mustPost(t, oneShot(t), closed.base+"/login", "form", formBody("username", "alice", "password", pw))
		assert.Equal(t, http.StatusServiceUnavailable, r.status, "fail closed (password %q)", pw)
		ra, err := strconv.Atoi(r.header.Get("Retry-After"))
		assert.NoError(t, err, "Retry-After %q", r.header.Get("Retry-After"))
		assert.Positive(t, ra, "Retry-After")
	}
	r := mustPost(t, oneShot(t), closed.base+"/api/login", "json", jsonLogin("alice", "wonderland"))
	assert.Equal(t, http.StatusServiceUnavailable, r.status, "fail closed on the JSON login")
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	// Fail open: logins go through, failures are answered as failures.
	r = mustPost(t, oneShot(t), open.base+"/login", "form", formBody("username", "alice", "password", "wonderland"))
	assert.Equal(t, http.StatusSeeOther, r.status, "fail open lets the right password in")
	r = mustPost(t, oneShot(t), open.base+"/api/login", "json", jsonLogin("bob", "builder"))
	assert.Equal(t, http.StatusOK, r.status, "fail open on the JSON login")
	r = mustPost(t, oneShot(t), open.base+"/login", "form", formBody("username", "alice", "password", "x"))
	assert.Equal(t, http.StatusUnauthorized, r.status, "fail open: a wrong password is a plain failure")

	// Hammer both during the outage, twice, counting goroutines after each
	// round: a leak grows with every round. (fasthttp keeps idle workers
	// for up to 10s, so fiber's count may stay above the start.)
	hammer := client(t, nextIP(), 8)
	round := func() (int, int) {
		var hw sync.WaitGroup
		for w := range 8 {
			hw.Add(1)
			go func() {
				defer hw.Done()
				for i := range 12 {
					a := closed
					if (w+i)%2 == 1 {
						a = open
					}
					post(hammer, a.base+"/api/login", "json", `{"username":"zed","password":"`+strconv.Itoa(i)+`"}`)
				}
			}()
		}
		hw.Wait()
		hammer.CloseIdleConnections()
		time.Sleep(time.Second)
		return closed.probe(t).Goroutines, open.probe(t).Goroutines
	}
	g1c, g1o := round()
	g2c, g2o := round()
	assert.LessOrEqual(t, g2c, g1c+5, "closed app: goroutines after one round of 96 requests in the outage %d, after two %d (before %d)", g1c, g2c, g0c)
	assert.LessOrEqual(t, g2o, g1o+5, "open app: goroutines after one round of 96 requests in the outage %d, after two %d (before %d)", g1o, g2o, g0o)
	assert.LessOrEqual(t, g2c, g0c+20, "closed app goroutines")
	assert.LessOrEqual(t, g2o, g0o+20, "open app goroutines")

	setPhase("restarting")
	require.NoError(t, restart())
	began := time.Now()
	require.True(t, waitFor(30*time.Second, func() bool { return storeUp(closed) && storeUp(open) }), "the apps recover when the store is back")
	recovered := time.Since(began)
	time.Sleep(300 * time.Millisecond)
	setPhase("after")
	time.Sleep(300 * time.Millisecond)
	close(done)
	wg.Wait()

	// The failures from before the outage still count: 3 + 1 = 4 of 5.
	r = mustPost(t, victim, closed.base+"/login", "form", formBody("username", "alice", "password", "x"))
	assert.Equal(t, 1, attemptsLeft(r.body), "the victim's 4th failure: 1 left (%d)", r.status)
	r = mustPost(t, victim, open.base+"/login", "form", formBody("username", "alice", "password", "wonderland"))
	assert.Equal(t, http.StatusSeeOther, r.status, "the 5th attempt, right password, on the other instance: it succeeds and takes back its advance count")
	r = mustPost(t, victim, closed.base+"/login", "form", formBody("username", "alice", "password", "x"))
	assert.Equal(t, http.StatusTooManyRequests, r.status, "the 5th failure locks")
	r = mustPost(t, oneShot(t), open.base+"/login", "form", formBody("username", "bob", "password", "builder"))
	assert.Equal(t, http.StatusSeeOther, r.status, "other clients are not locked")

	g3c, g3o := closed.probe(t).Goroutines, open.probe(t).Goroutines
	mu.Lock()
	t.Logf("FIGURE outage %s: attack statuses %v; store back after restart in %s; goroutines (before, after 1 and 2 rounds in the outage, after) closed app %d→%d→%d→%d, open app %d→%d→%d→%d",
		t.Name(), attack, recovered.Round(time.Millisecond), g0c, g1c, g2c, g3c, g0o, g1o, g2o, g3o)
	for p, m := range attack {
		for status := range m {
			assert.Contains(t, []int{401, 429, 503}, status, "attack %s the outage: status %d (%v)", p, status, m)
		}
	}
	assert.Positive(t, attack["during"][503], "the attack met 503s during the outage")
	other := 0
	for status, n := range attack["during"] {
		if status != http.StatusServiceUnavailable {
			other += n
		}
	}
	assert.LessOrEqual(t, other, 1, "during the outage every answer is a 503 (but the one in flight when it began): %v", attack["during"])
	assert.Positive(t, attack["after"][429], "the attacker, locked before the outage, is locked after it")
	assert.Zero(t, attack["after"][401], "no fresh attempts for the attacker after the restart")
	mu.Unlock()

	cl, ol := closed.logs(t), open.logs(t)
	assert.Contains(t, cl, "axes: store error", "the closed app logs the outage")
	assert.Contains(t, cl, "unavailable")
	assert.Contains(t, ol, "axes: store error", "the open app logs the outage")
	assert.Contains(t, ol, "failed_open", "the open app says it failed open")
	assert.False(t, strings.Contains(cl+ol, "Sekr1t"))
}
