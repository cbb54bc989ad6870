package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

// clock is a test clock moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newEngine(t testing.TB, mutate func(*core.Config)) (*core.Engine, *clock) {
	t.Helper()
	c := &clock{now: t0}
	cfg := core.DefaultConfig()
	cfg.Clock = c.Now
	cfg.Logger = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := core.New(cfg)
	require.NoError(t, err)
	return e, c
}

func req(ip, user string) *core.Request {
	return &core.Request{RemoteAddr: ip + ":5555", Method: "POST", Path: "/login", Username: user,
		Header: http.Header{"User-Agent": {"ua1"}}}
}

// try runs one login attempt: the handler's credential check says ok.
// It returns the final outcome and whether the handler ran.
func try(t testing.TB, e *core.Engine, r *core.Request, ok bool) (core.Decision, bool) {
	t.Helper()
	a := e.Begin(context.Background(), r)
	if a.Decision().Refused() {
		return a.Decision(), false
	}
	if ok {
		a.Succeed(context.Background())
		return a.Decision(), true
	}
	return a.Fail(context.Background()), true
}

type step struct {
	ip, user string
	ok       bool
	want     core.Outcome
	ran      bool
}

func TestDjangoAxesScenarios(t *testing.T) {
	L := core.Locked
	A := core.Allowed
	tests := []struct {
		name   string
		mutate func(*core.Config)
		steps  []step
	}{
		{"S01 limit 3: fail, fail, locked on the 3rd", nil, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, L, true},
		}},
		{"S02 right password refused while locked, handler never runs", nil, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, L, true},
			{"10.0.0.1", "alice", true, L, false},
		}},
		{"S03 a success leaves the count", nil, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", true, A, true},
			{"10.0.0.1", "alice", false, L, true},
		}},
		{"S04 reset on success", func(c *core.Config) { c.ResetOnSuccess = true }, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", true, A, true},
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, L, true},
		}},
		{"S05 ip counts every username", nil, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "bob", false, L, true},
		}},
		{"S06 each ip its own counter", nil, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.2", "alice", false, A, true}, {"10.0.0.3", "alice", false, A, true},
		}},
		{"S07 username parameter", func(c *core.Config) { c.LockoutParameters = []core.Combination{core.ParamUsername} }, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.2", "alice", false, A, true}, {"10.0.0.3", "alice", false, L, true},
			{"10.0.0.3", "bob", false, A, true},
		}},
		{"S09 spellings share one counter (G3)", func(c *core.Config) { c.LockoutParameters = []core.Combination{core.ParamUsername} }, []step{
			{"10.0.0.1", "Alice", false, A, true}, {"10.0.0.2", "ALICE", false, A, true}, {"10.0.0.3", " alice ", false, L, true},
			{"10.0.0.4", "aLiCe", true, L, false},
		}},
		{"S10 combination counts together", func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername | core.ParamIPAddress}
		}, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.2", "alice", false, A, true},
			{"10.0.0.1", "bob", false, A, true}, {"10.0.0.2", "bob", false, A, true}, {"10.0.0.1", "alice", false, L, true},
		}},
		{"S11 username or ip", func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername, core.ParamIPAddress}
		}, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.2", "alice", false, L, true},
			{"10.0.0.1", "bob", false, L, true}, {"10.0.0.4", "bob", false, A, true},
		}},
		{"S14 lock out at failure off counts only", func(c *core.Config) { c.LockOutAtFailure = false }, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true},
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", true, A, true},
		}},
		{"S28 whitelist never locks", func(c *core.Config) {
			c.IPWhitelist = []string{"10.0.0.0/24"}
			c.NeverLockoutWhitelist = true
		}, []step{
			{"10.0.0.1", "alice", false, core.Exempt, true}, {"10.0.0.1", "alice", false, core.Exempt, true},
			{"10.0.0.1", "alice", false, core.Exempt, true}, {"10.0.0.1", "alice", false, core.Exempt, true},
			{"10.0.1.1", "alice", false, A, true},
		}},
		{"S27 whitelist alone does nothing", func(c *core.Config) { c.IPWhitelist = []string{"10.0.0.1"} }, []step{
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, L, true},
		}},
		{"blacklist refuses before anything", func(c *core.Config) { c.IPBlacklist = []string{"10.0.0.9/32"} }, []step{
			{"10.0.0.9", "alice", true, core.Blocked, false}, {"10.0.0.1", "alice", true, A, true},
		}},
		{"S29 only whitelist", func(c *core.Config) {
			c.IPWhitelist = []string{"10.0.0.1"}
			c.OnlyWhitelist = true
		}, []step{
			{"10.0.0.2", "alice", true, core.Blocked, false}, {"10.0.0.1", "alice", true, core.Exempt, true},
			{"10.0.0.1", "alice", false, core.Exempt, true},
		}},
		{"blacklist wins over whitelist", func(c *core.Config) {
			c.IPWhitelist = []string{"10.0.0.0/8"}
			c.IPBlacklist = []string{"10.0.0.9"}
			c.NeverLockoutWhitelist = true
		}, []step{{"10.0.0.9", "alice", true, core.Blocked, false}}},
		{"S30 whitelist function", func(c *core.Config) {
			c.WhitelistFunc = func(f core.Facts) bool { return f.Username == "alice" }
		}, []step{
			{"10.0.0.1", "alice", false, core.Exempt, true}, {"10.0.0.1", "alice", false, core.Exempt, true},
			{"10.0.0.1", "bob", false, A, true}, {"10.0.0.1", "bob", false, A, true}, {"10.0.0.1", "bob", false, L, true},
			{"10.0.0.1", "alice", true, core.Exempt, true},
		}},
		{"S33 failure limit function", func(c *core.Config) {
			c.FailureLimitFunc = func(f core.Facts) int {
				if f.Username == "alice" {
					return 5
				}
				return 2
			}
		}, []step{
			{"10.0.0.7", "bob", false, A, true}, {"10.0.0.7", "bob", false, L, true},
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, A, true},
			{"10.0.0.1", "alice", false, A, true}, {"10.0.0.1", "alice", false, L, true},
		}},
		{"S34 no username, username parameter: never counted", func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername}
		}, []step{
			{"10.0.0.1", "", false, A, true}, {"10.0.0.1", "", false, A, true}, {"10.0.0.1", "", false, A, true},
			{"10.0.0.1", "", false, A, true},
		}},
		{"a username equal to an ip never shares the ip's counter (S38)", func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername, core.ParamIPAddress}
		}, []step{
			{"10.0.0.1", "10.0.0.9", false, A, true}, {"10.0.0.2", "10.0.0.9", false, A, true},
			{"10.0.0.9", "zed", false, A, true},
		}},
		{"S38 unknown client refused", nil, []step{{"not-an-ip", "alice", true, core.UnknownClient, false}}},
		{"disabled engine allows everything", func(c *core.Config) { c.Enabled = false }, []step{
			{"10.0.0.1", "alice", false, core.Exempt, true}, {"10.0.0.1", "alice", false, core.Exempt, true},
			{"10.0.0.1", "alice", false, core.Exempt, true}, {"10.0.0.1", "alice", false, core.Exempt, true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newEngine(t, tc.mutate)
			for i, s := range tc.steps {
				d, ran := try(t, e, req(s.ip, s.user), s.ok)
				assert.Equal(t, s.want, d.Outcome, "step %d (%s %s ok=%v): got outcome %s, want %s", i+1, s.ip, s.user, s.ok, d.Outcome, s.want)
				assert.Equal(t, s.ran, ran, "step %d: handler ran = %v, want %v", i+1, ran, s.ran)
			}
		})
	}
}

func TestNeverLockoutGet(t *testing.T) {
	e, _ := newEngine(t, func(c *core.Config) { c.NeverLockoutGet = true })
	for i := 0; i < 3; i++ {
		try(t, e, req("10.0.0.1", "alice"), false)
	}
	r := req("10.0.0.1", "alice")
	r.Method = "GET"
	d, ran := try(t, e, r, true)
	assert.Equal(t, core.Exempt, d.Outcome)
	assert.True(t, ran)
	d, ran = try(t, e, req("10.0.0.1", "alice"), true)
	assert.Equal(t, core.Locked, d.Outcome, "POST still locked")
	assert.False(t, ran)
}

func TestCoolOffFromLastFailure(t *testing.T) {
	t.Run("S15 failures during lockout extend it", func(t *testing.T) {
		e, c := newEngine(t, func(c *core.Config) { c.CoolOff = 2 * time.Second })
		for i := 0; i < 3; i++ {
			try(t, e, req("10.0.0.1", "alice"), false)
		}
		c.Add(time.Second)
		d, _ := try(t, e, req("10.0.0.1", "alice"), false)
		require.Equal(t, core.Locked, d.Outcome)
		assert.Equal(t, 4, d.Failures, "refused attempt counted")
		c.Add(1500 * time.Millisecond) // 2.5 s after the first lockout, 1.5 s after the refusal
		d, _ = try(t, e, req("10.0.0.1", "alice"), false)
		require.Equal(t, core.Locked, d.Outcome, "extended by the refused attempt")
		assert.Equal(t, 5, d.Failures)
		c.Add(2 * time.Second) // exactly last + cool-off: still locked
		d, _ = try(t, e, req("10.0.0.1", "alice"), true)
		require.Equal(t, core.Locked, d.Outcome, "at exactly last failure + cool-off the lock holds")
		c.Add(2*time.Second + time.Nanosecond)
		d, ran := try(t, e, req("10.0.0.1", "alice"), true)
		assert.Equal(t, core.Allowed, d.Outcome, "after the cool-off the right password logs in")
		assert.True(t, ran)
	})
	t.Run("S16 without extension the lockout ends a cool-off after the last recorded failure", func(t *testing.T) {
		e, c := newEngine(t, func(c *core.Config) {
			c.CoolOff = 2 * time.Second
			c.ResetCoolOffOnFailureDuringLockout = false
		})
		for i := 0; i < 3; i++ {
			try(t, e, req("10.0.0.1", "alice"), false)
		}
		c.Add(time.Second)
		d, _ := try(t, e, req("10.0.0.1", "alice"), false)
		require.Equal(t, core.Locked, d.Outcome)
		assert.Equal(t, 3, d.Failures, "refused attempt not counted")
		c.Add(1500 * time.Millisecond)
		d, ran := try(t, e, req("10.0.0.1", "alice"), false)
		assert.Equal(t, core.Allowed, d.Outcome)
		assert.True(t, ran)
		assert.Equal(t, 1, d.Failures, "a fresh count after expiry")
	})
	t.Run("tiers grow the cool-off and are read when the lock is checked", func(t *testing.T) {
		e, c := newEngine(t, func(c *core.Config) {
			c.CoolOffTiers = []core.Tier{{Failures: 3, CoolOff: time.Minute}, {Failures: 5, CoolOff: time.Hour}}
		})
		var d core.Decision
		for i := 0; i < 3; i++ {
			d, _ = try(t, e, req("10.0.0.1", "alice"), false)
		}
		require.Equal(t, core.Locked, d.Outcome)
		assert.Equal(t, time.Minute, d.CoolOff)
		assert.Equal(t, 60, d.RetryAfter())
		try(t, e, req("10.0.0.1", "alice"), false) // 4
		d, _ = try(t, e, req("10.0.0.1", "alice"), false)
		require.Equal(t, 5, d.Failures)
		assert.Equal(t, time.Hour, d.CoolOff, "the 5-failure tier applies")
		assert.Equal(t, 3600, d.RetryAfter())
		c.Add(2 * time.Minute)
		d, _ = try(t, e, req("10.0.0.1", "alice"), true)
		assert.Equal(t, core.Locked, d.Outcome, "still locked: the hour tier holds")
	})
	t.Run("cool-off function", func(t *testing.T) {
		e, c := newEngine(t, func(c *core.Config) {
			c.CoolOffFunc = func(f core.Facts) time.Duration { return 10 * time.Second }
		})
		for i := 0; i < 3; i++ {
			try(t, e, req("10.0.0.1", "alice"), false)
		}
		c.Add(11 * time.Second)
		d, _ := try(t, e, req("10.0.0.1", "alice"), true)
		assert.Equal(t, core.Allowed, d.Outcome)
	})
}

func TestAttemptsLeftAndAbandon(t *testing.T) {
	e, _ := newEngine(t, nil)
	a := e.Begin(context.Background(), req("10.0.0.1", "alice"))
	assert.Equal(t, 3, a.Decision().AttemptsLeft(), "before any failure")
	d := a.Fail(context.Background())
	assert.Equal(t, 2, d.AttemptsLeft())
	a = e.Begin(context.Background(), req("10.0.0.1", "alice"))
	a.Abandon(context.Background())
	st := e.Status(context.Background(), req("10.0.0.1", "alice"))
	assert.Equal(t, 1, st.Failures, "an abandoned attempt is not a failure")
	assert.Equal(t, 2, st.AttemptsLeft())
}

// TestNoRace is G1: limit 5, 1,000 goroutines attempting the same key at
// once with a credential check that always fails: exactly 5 checks run.
func TestNoRace(t *testing.T) {
	e, _ := newEngine(t, func(c *core.Config) { c.FailureLimit = 5 })
	var checks, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a := e.Begin(context.Background(), req("10.0.0.1", "alice"))
			if a.Decision().Refused() {
				refused.Add(1)
				return
			}
			checks.Add(1)
			a.Fail(context.Background())
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int64(5), checks.Load(), "credential checks: got %d, want 5", checks.Load())
	assert.Equal(t, int64(995), refused.Load())
}

func TestLockedOutEventOnce(t *testing.T) {
	var mu sync.Mutex
	kinds := map[core.EventKind]int{}
	var logs bytes.Buffer
	e, _ := newEngine(t, func(c *core.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		c.Events = core.EventHandlerFunc(func(_ context.Context, ev core.Event) {
			mu.Lock()
			kinds[ev.Kind]++
			mu.Unlock()
		})
	})
	for i := 0; i < 6; i++ {
		r := req("10.0.0.1", "alice")
		r.Form = url.Values{"username": {"alice"}, "password": {"hunter2-secret"}}
		try(t, e, r, false)
	}
	try(t, e, req("10.0.0.2", "bob"), true)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, kinds[core.EventLockedOut], "locked out exactly once")
	assert.Equal(t, 3, kinds[core.EventLoginFailed])
	assert.Equal(t, 3, kinds[core.EventRefused])
	assert.Equal(t, 1, kinds[core.EventLoggedIn])
	assert.NotContains(t, logs.String(), "hunter2", "no password in logs (G5)")
	assert.Contains(t, logs.String(), "axes: locking out client after repeated login failures")
	assert.Contains(t, logs.String(), `"ip_address":"10.0.0.1"`)

	recs, ok := e.Records()
	require.True(t, ok)
	rows, total, err := recs.Attempts(context.Background(), core.ListQuery{})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	assert.Equal(t, 3, rows[0].Failures)
	assert.Contains(t, rows[0].PostData, "password=********************")
	assert.NotContains(t, rows[0].PostData, "hunter2")
}

func TestLockoutResponses(t *testing.T) {
	lock := func(t *testing.T, e *core.Engine, r *core.Request) *core.Attempt {
		for i := 0; i < 3; i++ {
			try(t, e, r, false)
		}
		a := e.Begin(context.Background(), r)
		require.Equal(t, core.Locked, a.Decision().Outcome)
		return a
	}
	t.Run("json with django-axes keys and retry_after", func(t *testing.T) {
		e, c := newEngine(t, func(c *core.Config) { c.CoolOff = 30 * time.Minute })
		r := req("10.0.0.1", "alice")
		r.Header = http.Header{"Accept": {"application/json"}}
		for i := 0; i < 3; i++ {
			try(t, e, r, false)
		}
		c.Add(10 * time.Minute)
		a := e.Begin(context.Background(), r)
		resp := a.Response()
		require.NotNil(t, resp)
		assert.Equal(t, 429, resp.Status)
		var body map[string]any
		require.NoError(t, json.Unmarshal(resp.Body, &body))
		assert.Equal(t, float64(3), body["failure_limit"])
		assert.Equal(t, float64(4), body["failure_count"])
		assert.Equal(t, "alice", body["username"])
		assert.Equal(t, "PT30M", body["cooloff_time"])
		assert.Equal(t, float64(1800), body["retry_after"], "the refusal extended the lockout to a full cool-off")
		assert.Equal(t, "1800", resp.Header.Get("Retry-After"))
		assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("retry-after tells the seconds left (G7)", func(t *testing.T) {
		e, c := newEngine(t, func(c *core.Config) {
			c.CoolOff = 30 * time.Minute
			c.ResetCoolOffOnFailureDuringLockout = false
		})
		r := req("10.0.0.1", "alice")
		for i := 0; i < 3; i++ {
			try(t, e, r, false)
		}
		c.Add(10 * time.Minute)
		resp := e.Begin(context.Background(), r).Response()
		assert.Equal(t, "1200", resp.Header.Get("Retry-After"))
		assert.Equal(t, "Account locked: too many login attempts. Please try again later.", string(resp.Body))
	})
	t.Run("plain permanent lockout, no Retry-After", func(t *testing.T) {
		e, _ := newEngine(t, nil)
		resp := lock(t, e, req("10.0.0.1", "alice")).Response()
		assert.Equal(t, 429, resp.Status)
		assert.Empty(t, resp.Header.Get("Retry-After"))
		assert.Equal(t, "Account locked: too many login attempts. Contact an admin to unlock your account.", string(resp.Body))
	})
	t.Run("S19 redirect with the username", func(t *testing.T) {
		e, _ := newEngine(t, func(c *core.Config) { c.LockoutURL = "/locked/" })
		resp := lock(t, e, req("10.0.0.1", "al ice&x=1")).Response()
		assert.Equal(t, 302, resp.Status)
		assert.Equal(t, "/locked/?username=al+ice%26x%3D1", resp.Header.Get("Location"))
	})
	t.Run("template with the lockout context", func(t *testing.T) {
		tpl := template.Must(template.New("l").Parse(`<p>{{.Username}} locked after {{.FailureCount}} of {{.FailureLimit}} ({{.CoolOffTime}})</p>`))
		e, _ := newEngine(t, func(c *core.Config) {
			c.LockoutTemplate = tpl
			c.CoolOff = 90 * time.Minute
			c.HTTPResponseCode = 403
		})
		resp := lock(t, e, req("10.0.0.1", "<b>x</b>")).Response()
		assert.Equal(t, 403, resp.Status)
		assert.Equal(t, "<p>&lt;b&gt;x&lt;/b&gt; locked after 4 of 3 (PT1H30M)</p>", string(resp.Body))
	})
	t.Run("the app's function wins", func(t *testing.T) {
		e, _ := newEngine(t, func(c *core.Config) {
			c.LockoutResponseFunc = func(f core.Facts, d core.Decision) *core.Response {
				return &core.Response{Status: 418, Body: []byte("teapot " + f.Username)}
			}
		})
		resp := lock(t, e, req("10.0.0.1", "alice")).Response()
		assert.Equal(t, 418, resp.Status)
		assert.Equal(t, "teapot alice", string(resp.Body))
	})
}

func TestISODuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "PT30M", 90 * time.Minute: "PT1H30M", 24 * time.Hour: "P1D",
		26 * time.Hour: "P1DT2H", 90 * time.Second: "PT1M30S", 400 * time.Millisecond: "PT0S",
	} {
		assert.Equal(t, want, core.ISODuration(d), "ISODuration(%s)", d)
	}
}

// TestResetUsernameUnlocksTheirIP: under ip_address parameters, resetting a
// username unlocks the IP its failures locked, as deleting its rows does in
// django-axes.
func TestResetUsernameUnlocksTheirIP(t *testing.T) {
	e, _ := newEngine(t, nil)
	for i := 0; i < 3; i++ {
		try(t, e, req("10.0.0.1", "alice"), false)
	}
	require.Equal(t, core.Locked, e.Status(context.Background(), req("10.0.0.1", "alice")).Outcome)
	n, err := e.Reset(context.Background(), core.Filter{Username: "alice"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, core.Allowed, e.Status(context.Background(), req("10.0.0.1", "alice")).Outcome, "the IP alice locked is unlocked")
}

func TestReset(t *testing.T) {
	e, _ := newEngine(t, func(c *core.Config) {
		c.LockoutParameters = []core.Combination{core.ParamUsername, core.ParamIPAddress}
	})
	lock := func(ip, user string) {
		for i := 0; i < 3; i++ {
			try(t, e, req(ip, user), false)
		}
	}
	locked := func(ip, user string) bool {
		return e.Status(context.Background(), req(ip, user)).Outcome == core.Locked
	}
	lock("10.0.0.1", "alice")
	lock("10.0.0.2", "bob")
	n, err := e.Reset(context.Background(), core.Filter{IP: "10.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "one attempt record removed")
	assert.True(t, locked("10.0.0.3", "alice"), "alice's username key remains")
	assert.False(t, locked("10.0.0.1", "carol"), "the ip key is gone")
	n, err = e.Reset(context.Background(), core.Filter{Username: "ALICE"})
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	assert.False(t, locked("10.0.0.3", "alice"))
	assert.True(t, locked("10.0.0.2", "bob"))
	_, err = e.Reset(context.Background(), core.Filter{})
	require.ErrorIs(t, err, core.ErrBadFilter, "an empty filter never means everything")
	assert.True(t, locked("10.0.0.2", "bob"))
	_, err = e.Reset(context.Background(), core.Filter{IP: "garbage"})
	require.ErrorIs(t, err, core.ErrBadFilter)
	n, err = e.ResetAll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, locked("10.0.0.2", "bob"))

	lock("10.0.0.5", "dave")
	r := req("10.0.0.5", "")
	r.RawQuery = "username=dave"
	n, err = e.ResetRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, locked("10.0.0.5", "dave"))
}

type brokenStore struct{ core.Store }

var errDown = errors.New("connection refused")

func (brokenStore) Hit(context.Context, []core.Key, time.Time, core.Policy, []core.Counter) (bool, error) {
	return false, errDown
}

func TestStoreFailurePolicy(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		var got []core.Event
		e, _ := newEngine(t, func(c *core.Config) {
			c.Store = brokenStore{core.NewMemoryStore(core.MemoryOptions{})}
			c.FailOpen = failOpen
			c.Events = core.EventHandlerFunc(func(_ context.Context, ev core.Event) { got = append(got, ev) })
		})
		a := e.Begin(context.Background(), req("10.0.0.1", "alice"))
		d := a.Decision()
		require.ErrorIs(t, d.Err, errDown)
		require.ErrorIs(t, d.Err, core.ErrStoreUnavailable)
		require.Len(t, got, 1)
		assert.Equal(t, core.EventStoreError, got[0].Kind)
		assert.Equal(t, "hit", got[0].Op)
		if failOpen {
			assert.Equal(t, core.FailedOpen, d.Outcome)
			assert.False(t, d.Refused())
			continue
		}
		assert.Equal(t, core.Unavailable, d.Outcome)
		resp := a.Response()
		assert.Equal(t, 503, resp.Status)
		assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	}
}

func TestBadConfig(t *testing.T) {
	for name, mutate := range map[string]func(*core.Config){
		"limit":     func(c *core.Config) { c.FailureLimit = -1 },
		"cooloff":   func(c *core.Config) { c.CoolOff = -time.Second },
		"status":    func(c *core.Config) { c.HTTPResponseCode = 1000 },
		"whitelist": func(c *core.Config) { c.IPWhitelist = []string{"10.0.0.0/99"} },
		"proxies":   func(c *core.Config) { c.TrustedProxies = []string{"nope"} },
		"prefix":    func(c *core.Config) { c.IPv6Prefix = 200 },
		"params":    func(c *core.Config) { c.LockoutParameters = []core.Combination{0} },
		"tiers": func(c *core.Config) {
			c.CoolOffTiers = []core.Tier{{Failures: 5, CoolOff: time.Minute}, {Failures: 3, CoolOff: time.Hour}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := core.DefaultConfig()
			mutate(&cfg)
			_, err := core.New(cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, core.ErrBadSetting)
			assert.True(t, strings.HasPrefix(err.Error(), "axes: "), "got %q", err)
		})
	}
}

// oneStepLogin is a memory store that also ends a successful attempt in
// one step (core.LoginStore), counting those steps.
type oneStepLogin struct {
	*core.MemoryStore
	steps int
}

func (s *oneStepLogin) ReleaseAndRecordLogin(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, log core.AccessLog) error {
	s.steps++
	if err := s.Release(ctx, keys, now, p); err != nil {
		return err
	}
	return s.RecordLogin(ctx, log)
}

func TestLoginStoreEndsSuccessInOneStep(t *testing.T) {
	store := &oneStepLogin{MemoryStore: core.NewMemoryStore(core.MemoryOptions{})}
	e, _ := newEngine(t, func(c *core.Config) { c.Store = store })
	ctx := context.Background()
	e.Begin(ctx, req("10.0.0.1", "alice")).Fail(ctx)
	a := e.Begin(ctx, req("10.0.0.1", "alice"))
	require.Equal(t, core.Allowed, a.Decision().Outcome)
	a.Succeed(ctx)
	assert.Equal(t, 1, store.steps)
	assert.Equal(t, 1, e.Status(ctx, req("10.0.0.1", "alice")).Failures, "the success's advance count was taken back")
	logs, n, err := store.AccessLogs(ctx, core.ListQuery{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, "alice", logs[0].Username)
}

// Under a flood of refusals the log gets one line per second saying how
// many were left out, while every refusal still reaches the events.
func TestRefusalLogThrottled(t *testing.T) {
	var logs bytes.Buffer
	refused := 0
	e, clk := newEngine(t, func(c *core.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		c.Events = core.EventHandlerFunc(func(_ context.Context, ev core.Event) {
			if ev.Kind == core.EventRefused {
				refused++
			}
		})
	})
	for range 3 {
		try(t, e, req("10.0.0.1", "alice"), false)
	}
	for range 10 {
		d, ran := try(t, e, req("10.0.0.1", "alice"), false)
		require.False(t, ran)
		require.Equal(t, core.Locked, d.Outcome)
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "refused login attempt"), logs.String())
	clk.Add(1500 * time.Millisecond)
	try(t, e, req("10.0.0.1", "alice"), false)
	assert.Equal(t, 2, strings.Count(logs.String(), "refused login attempt"))
	assert.Contains(t, logs.String(), "refusals_not_logged=9")
	assert.Equal(t, 11, refused, "every refusal is an event")
}
