package core

import (
	"context"
	"time"
)

// EventKind names an event, the analog of a django-axes signal.
type EventKind uint8

const (
	// EventLoginFailed: a failure was recorded (user_login_failed).
	EventLoginFailed EventKind = iota + 1
	// EventLoggedIn: a successful login (user_logged_in).
	EventLoggedIn
	// EventLoggedOut: a logout (user_logged_out).
	EventLoggedOut
	// EventLockedOut: the attempt that crossed the limit (user_locked_out);
	// once per lockout.
	EventLockedOut
	// EventRefused: an attempt refused before its credentials were checked
	// (locked, blacklisted, unknown client, or store down).
	EventRefused
	// EventStoreError: the store failed; Outcome says what the policy did.
	EventStoreError
	// EventReset: records and counters were reset; Removed says how many.
	EventReset
)

var eventNames = [...]string{"", "login_failed", "logged_in", "logged_out", "locked_out", "refused", "store_error", "reset"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && k != 0 {
		return eventNames[k]
	}
	return "event(?)"
}

// Event describes something the engine did. It never carries a password.
type Event struct {
	Kind EventKind
	Time time.Time
	// Username (canonical), IP, UserAgent, Path and Method of the request.
	Username, IP, UserAgent, Path, Method string
	// Outcome of the attempt's decision (for refusals and store errors).
	Outcome Outcome
	// Failures and Limit as in the Decision.
	Failures, Limit int
	// CoolOff that applies to the lockout.
	CoolOff time.Duration
	// Removed counts the records removed (EventReset).
	Removed int
	// ResetKind tells what a reset selected: "all", "ip", "username",
	// "ip_username", "ip_or_username", "success".
	ResetKind string
	// Op names the store operation that failed (EventStoreError): "hit",
	// "release", "peek", "clear", "record failure", "record login",
	// "record logout".
	Op string
	// Err is the store's error (EventStoreError).
	Err error
}

// An EventHandler receives axes' events. HandleEvent may be called
// concurrently; it must not block for long. It runs after the store call,
// outside any lock, and cannot change a decision.
type EventHandler interface {
	HandleEvent(ctx context.Context, ev Event)
}

// EventHandlerFunc adapts an ordinary function to an EventHandler.
type EventHandlerFunc func(ctx context.Context, ev Event)

// HandleEvent calls f(ctx, ev).
func (f EventHandlerFunc) HandleEvent(ctx context.Context, ev Event) { f(ctx, ev) }

// Events fans an event out to several handlers, in order.
type Events []EventHandler

// HandleEvent calls every handler.
func (hs Events) HandleEvent(ctx context.Context, ev Event) {
	for _, h := range hs {
		if h != nil {
			h.HandleEvent(ctx, ev)
		}
	}
}
