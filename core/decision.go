package core

import "time"

// Outcome is what core decided about an attempt.
type Outcome uint8

const (
	// Allowed: the login handler may check the credentials. The attempt was
	// counted when it began and is taken back unless it fails.
	Allowed Outcome = iota
	// Exempt: allowed and never recorded (engine disabled, whitelisted,
	// never-lockout-GET).
	Exempt
	// Locked: refused because a lockout key reached the failure limit.
	Locked
	// Blocked: refused by the IP blacklist or OnlyWhitelist.
	Blocked
	// UnknownClient: refused because the client's IP could not be resolved.
	UnknownClient
	// Unavailable: refused because the store failed and the policy is to
	// fail closed (503 with Retry-After).
	Unavailable
	// FailedOpen: allowed, uncounted, because the store failed and the
	// policy is to fail open.
	FailedOpen
)

var outcomeNames = [...]string{"allowed", "exempt", "locked", "blocked", "unknown_client", "unavailable", "failed_open"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome(?)"
}

// Refused reports whether the login handler must not run.
func (o Outcome) Refused() bool {
	return o == Locked || o == Blocked || o == UnknownClient || o == Unavailable
}

// Decision is a value: a lockout is not an error. Errors in Err mean a broken
// store.
type Decision struct {
	Outcome Outcome
	// Failures is the highest failure count over the lockout keys,
	// including this attempt once it failed.
	Failures int
	// Limit is the failure limit that applied (0 when lockouts are off).
	Limit int
	// CoolOff is the lockout's length (0: until reset).
	CoolOff time.Duration
	// LockedUntil is when the lockout ends (zero when not locked or when it
	// lasts until reset).
	LockedUntil time.Time
	// Now is the time the decision was made.
	Now time.Time
	// Username (canonical) and IP of the attempt.
	Username, IP string
	// Err is the store's error for Unavailable and FailedOpen.
	Err error
}

// Refused reports whether the login handler must not run.
func (d Decision) Refused() bool { return d.Outcome.Refused() }

// AttemptsLeft is how many more failures the client may make before it is
// locked, or -1 when no limit applies.
func (d Decision) AttemptsLeft() int {
	if d.Limit <= 0 || d.Outcome == Exempt || d.Outcome == FailedOpen {
		return -1
	}
	if n := d.Limit - d.Failures; n > 0 {
		return n
	}
	return 0
}

// RetryAfter is the whole number of seconds until the lockout ends (rounded
// up), or 0 when it does not end by itself.
func (d Decision) RetryAfter() int {
	if d.LockedUntil.IsZero() {
		return 0
	}
	left := d.LockedUntil.Sub(d.Now)
	if left <= 0 {
		return 1
	}
	return int((left + time.Second - 1) / time.Second)
}
