package core_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/goaxes/axes/core"
)

// exampleConfig is DefaultConfig with a fixed clock and no log output, so
// that the examples print the same thing every time.
func exampleConfig() core.Config {
	cfg := core.DefaultConfig()
	cfg.Clock = func() time.Time { return time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC) }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// An adapter drives each login attempt through Begin and a report; this is
// what it does, without a web framework. The limit-th failure is answered
// with the lockout, and from then on the client is refused before its
// password is checked, even the right one.
func ExampleEngine_Begin() {
	cfg := exampleConfig()
	cfg.CoolOff = 30 * time.Minute
	engine, err := core.New(cfg)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	login := func(password string) {
		a := engine.Begin(ctx, &core.Request{RemoteAddr: "203.0.113.7:51000", Method: "POST", Path: "/login", Username: "alice"})
		if a.Decision().Refused() {
			resp := a.Response()
			fmt.Println("refused before the password check:", resp.Status, "Retry-After", resp.Header.Get("Retry-After"))
			return
		}
		if password == "wonderland" {
			a.Succeed(ctx)
			fmt.Println("logged in")
			return
		}
		d := a.Fail(ctx)
		if d.Outcome == core.Locked {
			fmt.Println("wrong password, locked out:", a.Response().Status)
			return
		}
		fmt.Println("wrong password,", d.AttemptsLeft(), "attempts left")
	}
	login("wonderland")
	login("guess1")
	login("guess2")
	login("guess3")
	login("wonderland")
	// Output:
	// logged in
	// wrong password, 2 attempts left
	// wrong password, 1 attempts left
	// wrong password, locked out: 429
	// refused before the password check: 429 Retry-After 1800
}

// ConfigFromEnv reads the AXES_* settings that django-axes users know;
// pass os.Getenv. Bad values are errors that name the variable.
func ExampleConfigFromEnv() {
	env := map[string]string{
		"AXES_FAILURE_LIMIT":      "5",
		"AXES_COOLOFF_TIME":       "0.5", // hours, as django-axes reads a number
		"AXES_LOCKOUT_PARAMETERS": "username,ip_address+user_agent",
		"AXES_TRUSTED_PROXIES":    "10.0.0.0/8",
	}
	cfg, err := core.ConfigFromEnv(func(name string) string { return env[name] })
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.FailureLimit, cfg.CoolOff, core.FormatLockoutParameters(cfg.LockoutParameters), cfg.TrustedProxies)

	_, err = core.ConfigFromEnv(func(name string) string {
		return map[string]string{"AXES_FAILURE_LIMIT": "zero"}[name]
	})
	fmt.Println(errors.Is(err, core.ErrBadSetting))
	fmt.Println(err)
	// Output:
	// 5 30m0s username,ip_address+user_agent [10.0.0.0/8]
	// true
	// axes: AXES_FAILURE_LIMIT="zero": want a whole number >= 1
}

// Reset is django-axes' reset(): everything, an IP, or a username. It
// returns how many attempt records it removed.
func ExampleEngine_Reset() {
	engine, err := core.New(exampleConfig())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, ip := range []string{"203.0.113.7", "203.0.113.7", "203.0.113.7", "198.51.100.2"} {
		engine.ReportFailure(ctx, &core.Request{RemoteAddr: ip, Username: "alice"})
	}
	locked := &core.Request{RemoteAddr: "203.0.113.7", Username: "alice"}
	fmt.Println(engine.Status(ctx, locked).Outcome)

	n, err := engine.Reset(ctx, core.Filter{IP: "203.0.113.7"}) // axes reset-ip 203.0.113.7
	fmt.Println(n, err, engine.Status(ctx, locked).Outcome)

	n, err = engine.ResetAll(ctx) // axes reset
	fmt.Println(n, err)
	// Output:
	// locked
	// 1 <nil> allowed
	// 1 <nil>
}

// Status tells a request's decision without counting anything: what a
// login page shows before the form is sent.
func ExampleEngine_Status() {
	engine, err := core.New(exampleConfig())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	r := &core.Request{RemoteAddr: "203.0.113.7", Username: "alice"}
	engine.ReportFailure(ctx, r)
	d := engine.Status(ctx, r)
	fmt.Printf("%d failure, %d attempts left\n", d.Failures, d.AttemptsLeft())
	// Output:
	// 1 failure, 2 attempts left
}

// Events are django-axes' signals: chain handlers with core.Events (a
// metrics collector, an alert hook, …). user_locked_out is EventLockedOut.
func ExampleEventHandlerFunc() {
	cfg := exampleConfig()
	cfg.Events = core.Events{core.EventHandlerFunc(func(_ context.Context, ev core.Event) {
		if ev.Kind == core.EventLockedOut {
			fmt.Printf("locked out: %s from %s after %d failures\n", ev.Username, ev.IP, ev.Failures)
		}
	})}
	engine, err := core.New(cfg)
	if err != nil {
		panic(err)
	}
	for range 4 {
		engine.ReportFailure(context.Background(), &core.Request{RemoteAddr: "203.0.113.7", Username: "Alice"})
	}
	// Output:
	// locked out: alice from 203.0.113.7 after 3 failures
}

// Warnings are django-axes' system checks; LogStartup logs them at WARN
// after the "axes: BEGIN version …, blocking by …" line.
func ExampleEngine_Warnings() {
	cfg := exampleConfig()
	cfg.LockoutParameters = []core.Combination{core.ParamUsername}
	cfg.TrustedProxies = []string{"0.0.0.0/0"}
	engine, err := core.New(cfg) // the memory store: one instance only
	if err != nil {
		panic(err)
	}
	fmt.Println(engine.Mode())
	for _, w := range engine.Warnings() {
		risk, _, _ := strings.Cut(w, ":") // each says the risk, then why and the fix
		fmt.Println("-", risk)
	}
	// Output:
	// blocking by username
	// - the lockout parameters (username) leave out ip_address
	// - the memory store keeps lockouts in this process
	// - TrustedProxies (AXES_TRUSTED_PROXIES) contains 0.0.0.0/0
}

// Behind a proxy, only a trusted peer's X-Forwarded-For is believed.
func ExampleConfig_trustedProxies() {
	cfg := exampleConfig()
	cfg.TrustedProxies = []string{"10.0.0.0/8"}
	engine, err := core.New(cfg)
	if err != nil {
		panic(err)
	}
	h := http.Header{"X-Forwarded-For": {"198.51.100.9, 10.0.0.2"}}
	for _, peer := range []string{"10.0.0.1:443", "192.0.2.50:443"} {
		a := engine.Begin(context.Background(), &core.Request{RemoteAddr: peer, Header: h, Username: "alice"})
		fmt.Println(peer, "→", a.Facts().IP)
		a.Abandon(context.Background())
	}
	// Output:
	// 10.0.0.1:443 → 198.51.100.9
	// 192.0.2.50:443 → 192.0.2.50
}
