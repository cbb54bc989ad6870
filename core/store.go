package core

import (
	"context"
	"strings"
	"time"
)

// Counter is the state of one lockout key.
type Counter struct {
	// Failures counted since the key was created or last expired.
	Failures int
	// Last is the time of the last counted failure (zero when none).
	Last time.Time
}

// Tier is one step of a growing cool-off: from Failures failures on, a
// lockout lasts CoolOff.
type Tier struct {
	Failures int
	CoolOff  time.Duration
}

// Policy tells a store how to count. Core resolves it for each request
// (failure limit and cool-off may be functions of the request) and passes it
// to every call, so stores hold no configuration of their own.
type Policy struct {
	// Limit locks a key when its Failures >= Limit. 0 never locks
	// (LockOutAtFailure off): failures are counted, nothing is refused.
	Limit int
	// CoolOff is how long a key stays counted after its last failure.
	// 0 means forever (until reset).
	CoolOff time.Duration
	// Tiers, when set, replace CoolOff for counts they cover: the cool-off
	// of a count is that of the highest tier whose Failures <= count, else
	// CoolOff. Sorted by Failures ascending.
	Tiers []Tier
	// ExtendDuringLockout counts attempts that are refused because a key is
	// locked (django-axes' AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT).
	ExtendDuringLockout bool
}

// CoolOffAt returns the cool-off that applies to a key with n failures.
func (p Policy) CoolOffAt(n int) time.Duration {
	d := p.CoolOff
	for _, t := range p.Tiers {
		if t.Failures <= n {
			d = t.CoolOff
		}
	}
	return d
}

// Expired reports whether c no longer counts at now: it has a cool-off and
// now is strictly after Last + cool-off. At exactly Last + cool-off the key
// still counts, as in django-axes.
func (p Policy) Expired(c Counter, now time.Time) bool { return p.expired(&c, now) }

// expired is Expired without copying the policy or the counter (the hot
// path).
func (p *Policy) expired(c *Counter, now time.Time) bool {
	if c.Failures <= 0 {
		return true
	}
	d := p.coolOff(c.Failures)
	return d > 0 && now.Sub(c.Last) > d
}

// Locked reports whether c locks its key at now.
func (p Policy) Locked(c Counter, now time.Time) bool {
	return p.Limit > 0 && c.Failures >= p.Limit && !p.Expired(c, now)
}

// coolOff is CoolOffAt without copying the policy (the hot path).
func (p *Policy) coolOff(n int) time.Duration {
	if len(p.Tiers) == 0 {
		return p.CoolOff
	}
	return p.CoolOffAt(n)
}

// expiredNano is expired on unix nanoseconds (Last and now), as the memory
// store keeps them.
func (p *Policy) expiredNano(failures int, last, now int64) bool {
	if failures <= 0 {
		return true
	}
	d := p.coolOff(failures)
	return d > 0 && now-last > int64(d)
}

// Store keeps lockout counters. It is the hot path: every method is one
// atomic step with respect to every other caller, including other processes
// that share the same backend. Implementations must be safe for concurrent
// use. Time comes from the caller; backend TTLs are only garbage collection.
//
// A missing key is the zero Counter. An expired key (Policy.Expired) reads as
// the zero Counter and starts again from zero when counted.
//
// Every string the Engine passes to a store (key fields and IDs, filters,
// records, logs, searches) has been through StoreEscape: valid UTF-8
// without NUL, whatever bytes the request had.
type Store interface {
	// Hit is the begin of an attempt. Atomically, over all keys: if any key
	// is locked at now (Policy.Locked), Hit reports locked = true and, only
	// when p.ExtendDuringLockout, counts one failure on every key (Last =
	// now); otherwise it counts one failure on every key. It writes each
	// key's counter after the step into out (len(out) == len(keys)).
	Hit(ctx context.Context, keys []Key, now time.Time, p Policy, out []Counter) (locked bool, err error)
	// Release takes back one failure counted by Hit on every key (never below
	// zero), leaving Last as it is: the attempt did not fail after all.
	Release(ctx context.Context, keys []Key, now time.Time, p Policy) error
	// Peek writes each key's counter at now into out without changing
	// anything (len(out) == len(keys)).
	Peek(ctx context.Context, keys []Key, now time.Time, p Policy, out []Counter) error
	// Clear deletes the counters of keys (reset on success).
	Clear(ctx context.Context, keys []Key) error
	// Reset deletes every counter whose key matches f (Key.Matches) and, in a
	// store that keeps records, every attempt record that matches f. It
	// returns how many attempt records it removed, or, in a store without
	// records, how many counters.
	Reset(ctx context.Context, f Filter) (int, error)
}

// Filter selects lockout keys and records for resets and listings. The zero
// Filter selects everything.
type Filter struct {
	// IP selects this address (records compare it exactly).
	IP string
	// IPGroup is IP in key form (IPv6 grouped by prefix); the Engine fills
	// it. Empty means the same as IP.
	IPGroup string
	// Username selects this canonical username.
	Username string
	// Either selects what matches IP or Username instead of both.
	Either bool
}

// IPKey returns the IP in key form.
func (f Filter) IPKey() string {
	if f.IPGroup != "" {
		return f.IPGroup
	}
	return f.IP
}

// MatchesRecord reports whether a record of ip and username falls under f.
// Records compare IP exactly; a filter with only IPGroup matches no record
// by IP.
func (f Filter) MatchesRecord(ip, username string) bool {
	ipSet, userSet := f.IP != "" || f.IPGroup != "", f.Username != ""
	ipOK, userOK := f.IP != "" && ip == f.IP, userSet && username == f.Username
	return f.combine(ipSet, userSet, ipOK, userOK)
}

// combine joins the IP and username tests of a filter: the zero filter
// matches all, one set field must match, both must match unless Either.
func (f Filter) combine(ipSet, userSet, ipOK, userOK bool) bool {
	switch {
	case !ipSet && !userSet:
		return true
	case ipSet && userSet && !f.Either:
		return ipOK && userOK
	case ipSet && userSet:
		return ipOK || userOK
	case ipSet:
		return ipOK
	default:
		return userOK
	}
}

// AttemptRecord is django-axes' AccessAttempt: one row per (username, IP,
// user agent) with the latest request's data, masked and size-capped.
type AttemptRecord struct {
	Username  string
	IP        string
	UserAgent string
	Accept    string
	Path      string
	// GetData and PostData are the latest request's query and body fields,
	// "name=value" lines with sensitive values masked; replaced on every
	// failure, never appended.
	GetData  string
	PostData string
	// Failures since the record was created.
	Failures     int
	FirstAttempt time.Time
	LastAttempt  time.Time
}

// AccessLog is django-axes' AccessLog: one row per successful login, with
// its logout time once the user logs out.
type AccessLog struct {
	ID         int64
	Username   string
	IP         string
	UserAgent  string
	Path       string
	LoginTime  time.Time
	LogoutTime time.Time // zero while logged in
}

// FailureLog is django-axes' AccessFailureLog: one row per failure, capped
// per username.
type FailureLog struct {
	ID        int64
	Username  string
	IP        string
	UserAgent string
	Path      string
	Time      time.Time
	// LockedOut tells whether this failure was answered with a lockout.
	LockedOut bool
}

// ListQuery selects, orders and pages records.
type ListQuery struct {
	// Filter narrows by IP and username (exact), as for resets.
	Filter Filter
	// Search keeps rows whose IP, username, user agent or path contains it
	// (case-insensitive).
	Search string
	// Sort names a column: "username", "ip", "user_agent", "path",
	// "failures", "first_attempt", "last_attempt" (attempts, default),
	// "login_time" (access logs, default), "logout_time", "time" (failure
	// logs, default). Unknown names fall back to the default.
	Sort string
	// Asc sorts ascending; the default is descending (newest first).
	Asc bool
	// Offset and Limit page the result; Limit 0 means no limit.
	Offset, Limit int
}

// RecordStore is implemented by stores that keep django-axes' records, for
// the admin page and the CLI. Callers find it by type assertion on a Store.
// Implementations must be safe for concurrent use.
type RecordStore interface {
	// RecordFailure upserts the attempt record of (Username, IP, UserAgent):
	// Failures + 1, LastAttempt, Accept, Path, GetData and PostData replaced;
	// FirstAttempt set on insert. With failureLog it also appends a
	// FailureLog row and keeps at most perUser rows for that username
	// (oldest removed; perUser <= 0 means no cap).
	RecordFailure(ctx context.Context, rec AttemptRecord, failureLog bool, lockedOut bool, perUser int) error
	// RecordLogin appends an access log row.
	RecordLogin(ctx context.Context, log AccessLog) error
	// RecordLogout sets LogoutTime on the newest open access log of username
	// from ip (any ip when ip is empty). No open log is not an error.
	RecordLogout(ctx context.Context, username, ip string, at time.Time) error
	// Attempts, AccessLogs and FailureLogs list records with the total count
	// of rows that match before paging.
	Attempts(ctx context.Context, q ListQuery) ([]AttemptRecord, int, error)
	AccessLogs(ctx context.Context, q ListQuery) ([]AccessLog, int, error)
	FailureLogs(ctx context.Context, q ListQuery) ([]FailureLog, int, error)
	// DeleteAccessLogs and DeleteFailureLogs remove rows older than before
	// (LoginTime, Time); the zero time removes all. They return the count.
	DeleteAccessLogs(ctx context.Context, before time.Time) (int, error)
	DeleteFailureLogs(ctx context.Context, before time.Time) (int, error)
}

// LoginStore is implemented by a RecordStore that is also the Engine's
// Store and can end a successful attempt in one step (one round trip):
// ReleaseAndRecordLogin is Release(keys, now, p) followed by
// RecordLogin(log), both or, on error, possibly neither. The Engine uses
// it when a login succeeds after Begin, without ResetOnSuccess.
type LoginStore interface {
	ReleaseAndRecordLogin(ctx context.Context, keys []Key, now time.Time, p Policy, log AccessLog) error
}

// MatchesSearch reports whether any field contains search
// (ListQuery.Search, lower-cased by the caller), case-insensitively; an
// empty search matches. For stores that filter listings in Go.
func MatchesSearch(search string, fields ...string) bool {
	if search == "" {
		return true
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), search) {
			return true
		}
	}
	return false
}

// PageRows returns the page of rows that q's Offset and Limit select
// (never nil). For stores that page listings in Go.
func PageRows[T any](rows []T, q ListQuery) []T {
	off := max(q.Offset, 0)
	if off >= len(rows) {
		return []T{}
	}
	rows = rows[off:]
	if q.Limit > 0 && q.Limit < len(rows) {
		rows = rows[:q.Limit]
	}
	return rows
}
