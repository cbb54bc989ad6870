package core

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
)

// Version is the version of axes that LogStartup reports.
const Version = "0.1.0"

// Mode says what the engine blocks by, in django-axes' words: "blocking by
// ip_address", "blocking by username or combination of ip_address and
// user_agent", "blocking by a function of the request" when
// LockoutParametersFunc decides, "disabled" when the engine is off.
func (e *Engine) Mode() string {
	if !e.cfg.Enabled {
		return "disabled"
	}
	if e.cfg.LockoutParametersFunc != nil {
		return "blocking by a function of the request (LockoutParametersFunc)"
	}
	parts := make([]string, len(e.cfg.LockoutParameters))
	for i, c := range e.cfg.LockoutParameters {
		names := strings.Split(c.String(), "+")
		if len(names) == 1 {
			parts[i] = names[0]
		} else {
			parts[i] = "combination of " + strings.Join(names, " and ")
		}
	}
	return "blocking by " + strings.Join(parts, " or ")
}

// LogStartup logs the start-up line of django-axes, "axes: BEGIN version
// 0.1.0, blocking by ip_address" (at INFO, when Verbose, as django-axes
// does), then each of Warnings at WARN. Call it once, after New.
func (e *Engine) LogStartup(ctx context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	if e.cfg.Verbose {
		e.log.LogAttrs(ctx, slog.LevelInfo, "axes: BEGIN version "+Version+", "+e.Mode(),
			slog.String("version", Version),
			slog.String("lockout_parameters", FormatLockoutParameters(e.cfg.LockoutParameters)),
			slog.Int("failure_limit", e.cfg.FailureLimit),
			slog.String("cooloff", e.cfg.CoolOff.String()),
			slog.Bool("fail_open", e.cfg.FailOpen))
	}
	for _, w := range e.Warnings() {
		e.log.LogAttrs(ctx, slog.LevelWarn, "axes: "+w)
	}
}

// Warnings lists the risky settings of the engine, as django-axes' system
// checks do, each as a sentence that says the risk and the fix:
//
//   - no ip_address in the lockout parameters (django-axes' W006): an
//     attacker who rotates usernames or user agents is never locked;
//   - ResetOnSuccess without username in the lockout parameters: one valid
//     account buys unlimited guesses at the others from the same IP;
//   - a memory store: fine for one instance, but several instances each
//     count on their own;
//   - TrustedProxies containing 0.0.0.0/0 or ::/0: forwarded headers are
//     believed from everyone, so any client picks its own IP;
//   - FailOpen: while the store is down, attempts go through uncounted;
//   - IPWhitelist without NeverLockoutWhitelist or OnlyWhitelist: the
//     whitelist has no effect;
//   - LockOutAtFailure off: failures are counted, nobody is locked.
//
// A store that wraps another (axesprom.InstrumentStore) is seen through
// when it has an Unwrap() Store method. A disabled engine has no warnings
// but that one.
func (e *Engine) Warnings() []string {
	var ws []string
	if !e.cfg.Enabled {
		return []string{"disabled (AXES_ENABLED=false): every login attempt is allowed and nothing is recorded"}
	}
	if e.cfg.LockoutParametersFunc == nil {
		var all Combination
		for _, c := range e.cfg.LockoutParameters {
			all |= c
		}
		if !all.Has(ParamIPAddress) {
			ws = append(ws, "the lockout parameters ("+FormatLockoutParameters(e.cfg.LockoutParameters)+
				") leave out ip_address: an attacker who rotates usernames or user agents is never locked out; add ip_address, as in AXES_LOCKOUT_PARAMETERS=username,ip_address")
		}
		if e.cfg.ResetOnSuccess && !all.Has(ParamUsername) {
			ws = append(ws, "ResetOnSuccess (AXES_RESET_ON_SUCCESS) without username in the lockout parameters ("+FormatLockoutParameters(e.cfg.LockoutParameters)+
				"): a successful login clears the failures of its IP, so one valid account buys unlimited guesses at the others; add a username alternative (AXES_LOCKOUT_PARAMETERS=ip_address,username+ip_address) or turn ResetOnSuccess off")
		}
	}
	if isMemoryStore(e.store) {
		ws = append(ws, "the memory store keeps lockouts in this process: fine for one instance, but several instances each count on their own and lose their counts on restart; share one Redis or PostgreSQL store between instances (AXES_STORE=redis://… or postgres://…)")
	}
	for _, p := range e.cfg.TrustedProxies {
		if pfx, err := netip.ParsePrefix(strings.TrimSpace(p)); err == nil && pfx.Bits() == 0 {
			ws = append(ws, "TrustedProxies (AXES_TRUSTED_PROXIES) contains "+pfx.String()+": forwarded headers are believed from everyone, so any client can pick the IP it is counted under; list only your proxies' addresses")
		}
	}
	if e.cfg.FailOpen {
		ws = append(ws, "FailOpen (AXES_FAIL_OPEN) is on: while the store is unreachable, login attempts go through uncounted, so an attacker who can slow the store down guesses freely")
	}
	if len(e.cfg.IPWhitelist) > 0 && !e.cfg.NeverLockoutWhitelist && !e.cfg.OnlyWhitelist {
		ws = append(ws, "IPWhitelist (AXES_IP_WHITELIST) has no effect without NeverLockoutWhitelist or OnlyWhitelist (AXES_NEVER_LOCKOUT_WHITELIST, AXES_ONLY_WHITELIST), as in django-axes")
	}
	if !e.cfg.LockOutAtFailure {
		ws = append(ws, "LockOutAtFailure (AXES_LOCK_OUT_AT_FAILURE) is off: failures are counted but nobody is ever locked out")
	}
	return ws
}

// isMemoryStore reports whether s is a MemoryStore, looking through
// wrappers that have an Unwrap() Store method.
func isMemoryStore(s Store) bool {
	for range 16 {
		switch v := s.(type) {
		case *MemoryStore:
			return true
		case interface{ Unwrap() Store }:
			s = v.Unwrap()
		default:
			return false
		}
	}
	return false
}
