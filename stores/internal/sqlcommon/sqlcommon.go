// Package sqlcommon holds the SQL that sqlitestore and pgstore share: the
// statements of the counters and records, written once in the dialect both
// databases speak ($1 placeholders, INSERT … ON CONFLICT … DO UPDATE …
// RETURNING, COUNT(*) OVER (), NULLS FIRST/LAST), and the scanning of their
// rows. Times are int64 unix microseconds in both databases.
//
// The statements' texts depend only on their shape (how many keys, how many
// cool-off tiers), never on values, so that the drivers' statement caches
// stay small; every value is a parameter.
package sqlcommon

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/goaxes/axes/core"
)

// Micros is t in the stores' unit.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Time is the inverse of Micros, in UTC.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }

// NullMicros is t as a nullable column: nil for the zero time.
func NullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidIdent reports whether s may be used unquoted as (part of) an SQL
// identifier: letters, digits and underscores, not starting with a digit.
func ValidIdent(s string) bool { return identRE.MatchString(s) }

// DefaultPrefix starts the names of the tables, indexes and functions.
const DefaultPrefix = "axes_"

// Resolve returns schema, the DDL written with DefaultPrefix, with its
// names prefixed by qualified (such as `myschema.app_`) instead.
func Resolve(schema, qualified string) string {
	if qualified == DefaultPrefix {
		return schema
	}
	return strings.ReplaceAll(schema, DefaultPrefix, qualified)
}

// Dialect is what differs between the databases in the shared statements.
type Dialect struct {
	// Like is the case-insensitive LIKE operator.
	Like string
	// NoLimit is the LIMIT argument that means no limit.
	NoLimit any
}

// The dialects.
var (
	SQLite   = Dialect{Like: "LIKE", NoLimit: -1}
	Postgres = Dialect{Like: "ILIKE", NoLimit: nil}
)

// Statements are the shared statements of one store, on tables named with
// one prefix. Safe for concurrent use.
type Statements struct {
	d                                       Dialect
	counters, attempts, accessLogs, failLog string

	mu    sync.Mutex
	cache map[shape]string
}

type shape struct {
	op    byte // one of the op* constants
	keys  int
	tiers int
}

const (
	opHit byte = iota
	opPeek
	opRelease
	opReleaseSweep
	opClear
	opAnyLocked
)

// NewStatements returns the statements on the tables of prefix, which is
// already qualified and valid (see ValidIdent).
func NewStatements(d Dialect, prefix string) *Statements {
	return &Statements{
		d:          d,
		counters:   prefix + "counters",
		attempts:   prefix + "attempts",
		accessLogs: prefix + "access_logs",
		failLog:    prefix + "failure_logs",
		cache:      make(map[shape]string),
	}
}

// cached returns the text of sh, building it once.
func (s *Statements) cached(sh shape, build func() string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.cache[sh]
	if !ok {
		q = build()
		s.cache[sh] = q
	}
	return q
}

// args collects the arguments of a statement; ph returns the placeholder of
// the next one.
type args struct {
	n int
}

func (a *args) ph() string {
	a.n++
	return fmt.Sprintf("$%d", a.n)
}

// policyExpr is the SQL of a Policy's rules on a counter row c, with the
// policy's values as parameters in the order PolicyArgs appends them:
// now, limit, then the cool-off (base, then each tier from last to first:
// failures, cool-off).
type policyExpr struct {
	now, limit, coolOff string
}

func newPolicyExpr(a *args, tiers int, withLimit bool) policyExpr {
	var e policyExpr
	e.now = a.ph()
	if withLimit {
		e.limit = a.ph()
	}
	base := a.ph()
	if tiers == 0 {
		e.coolOff = "CAST(" + base + " AS BIGINT)"
		return e
	}
	var b strings.Builder
	b.WriteString("(CASE")
	for range tiers {
		f, d := a.ph(), a.ph()
		fmt.Fprintf(&b, " WHEN c.failures >= %s THEN CAST(%s AS BIGINT)", f, d)
	}
	fmt.Fprintf(&b, " ELSE CAST(%s AS BIGINT) END)", base)
	e.coolOff = b.String()
	return e
}

// expired is Policy.Expired on the row c.
func (e policyExpr) expired() string {
	return fmt.Sprintf("(c.failures <= 0 OR (%[1]s > 0 AND %[2]s - c.last > %[1]s))", e.coolOff, e.now)
}

// locked is Policy.Locked on the row c.
func (e policyExpr) locked() string {
	return fmt.Sprintf("(%[1]s > 0 AND c.failures >= %[1]s AND NOT %[2]s)", e.limit, e.expired())
}

// PolicyArgs appends the arguments of a policyExpr: now, the limit (when
// withLimit), the base cool-off and the tiers, last first, as CoolOffAt
// picks the last tier that applies.
func PolicyArgs(dst []any, p *core.Policy, now time.Time, withLimit bool) []any {
	dst = append(dst, Micros(now))
	if withLimit {
		dst = append(dst, p.Limit)
	}
	dst = append(dst, p.CoolOff.Microseconds())
	for i := len(p.Tiers) - 1; i >= 0; i-- {
		dst = append(dst, p.Tiers[i].Failures, p.Tiers[i].CoolOff.Microseconds())
	}
	return dst
}

// inList returns "(ph, ph, …)" for n arguments.
func inList(a *args, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.ph())
	}
	b.WriteByte(')')
	return b.String()
}

// Hit is the statement that counts one key, atomically: one upsert. Its
// arguments are PolicyArgs(withLimit), extend (1 or 0), then KeyArgs. It
// returns (failures, last, hit_locked): the counter after the step and
// whether the key was locked before it. A locked key is counted only when
// extend is 1; an expired one starts again from one.
func (s *Statements) Hit(tiers int) string {
	return s.cached(shape{op: opHit, keys: 1, tiers: tiers}, func() string {
		var a args
		e := newPolicyExpr(&a, tiers, true)
		extend := a.ph()
		id, params, ip, user, ua := a.ph(), a.ph(), a.ph(), a.ph(), a.ph()
		hold := fmt.Sprintf("(%s AND %s = 0)", e.locked(), extend)
		return fmt.Sprintf(`INSERT INTO %[1]s AS c (id, params, ip, username, user_agent, failures, last, hit_locked)
VALUES (%[2]s, %[3]s, %[4]s, %[5]s, %[6]s, 1, %[7]s, FALSE)
ON CONFLICT (id) DO UPDATE SET
	failures = CASE WHEN %[8]s THEN c.failures WHEN %[9]s THEN 1 ELSE c.failures + 1 END,
	last = CASE WHEN %[8]s THEN c.last ELSE %[7]s END,
	hit_locked = %[10]s
RETURNING failures, last, hit_locked`,
			s.counters, id, params, ip, user, ua, e.now, hold, e.expired(), e.locked())
	})
}

// KeyArgs appends the arguments that describe key k in Hit.
func KeyArgs(dst []any, k *core.Key) []any {
	return append(dst, k.ID, int(k.Params), k.IP, k.Username, k.UserAgent)
}

// AnyLocked is the statement that reports (1 or 0) whether any of n keys is
// locked; arguments PolicyArgs(withLimit) then the n IDs.
func (s *Statements) AnyLocked(n, tiers int) string {
	return s.cached(shape{op: opAnyLocked, keys: n, tiers: tiers}, func() string {
		var a args
		e := newPolicyExpr(&a, tiers, true)
		return fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s AS c WHERE c.id IN %s AND %s)",
			s.counters, inList(&a, n), e.locked())
	})
}

// Peek is the statement that reads the counters of n keys: rows of (id,
// failures, last) for the keys that have one; expiry is for the caller to
// judge. Arguments: the n IDs.
func (s *Statements) Peek(n int) string {
	return s.cached(shape{op: opPeek, keys: n}, func() string {
		var a args
		if n == 1 {
			return fmt.Sprintf("SELECT id, failures, last FROM %s WHERE id = %s", s.counters, a.ph())
		}
		return fmt.Sprintf("SELECT id, failures, last FROM %s WHERE id IN %s", s.counters, inList(&a, n))
	})
}

// Release is the statement that takes back one failure from n keys (an
// expired key drops to zero), leaving last as it is; arguments
// PolicyArgs(without limit) then the n IDs. ReleaseSweep, run after it,
// deletes the counters it left at zero; arguments: the n IDs. Each is
// atomic, and a counter at zero reads as a missing one, so the pair needs no
// transaction.
func (s *Statements) Release(n, tiers int) string {
	return s.cached(shape{op: opRelease, keys: n, tiers: tiers}, func() string {
		var a args
		e := newPolicyExpr(&a, tiers, false)
		return fmt.Sprintf("UPDATE %s AS c SET failures = CASE WHEN %s THEN 0 ELSE c.failures - 1 END WHERE c.id IN %s AND c.failures > 0",
			s.counters, e.expired(), inList(&a, n))
	})
}

// ReleaseSweep: see Release.
func (s *Statements) ReleaseSweep(n int) string {
	return s.cached(shape{op: opReleaseSweep, keys: n}, func() string {
		var a args
		return fmt.Sprintf("DELETE FROM %s WHERE id IN %s AND failures <= 0", s.counters, inList(&a, n))
	})
}

// Clear is the statement that deletes the counters of n keys; arguments:
// the n IDs.
func (s *Statements) Clear(n int) string {
	return s.cached(shape{op: opClear, keys: n}, func() string {
		var a args
		return fmt.Sprintf("DELETE FROM %s WHERE id IN %s", s.counters, inList(&a, n))
	})
}

// IDArgs appends the IDs of keys.
func IDArgs(dst []any, keys []core.Key) []any {
	for i := range keys {
		dst = append(dst, keys[i].ID)
	}
	return dst
}

// Distinct returns keys without repeated IDs and, when there were repeats,
// for each key of keys the index of its first occurrence in the result
// (nil when keys had no repeats).
func Distinct(keys []core.Key) ([]core.Key, []int) {
	dup := false
	for i := 1; i < len(keys) && !dup; i++ {
		for j := range i {
			if keys[j].ID == keys[i].ID {
				dup = true
				break
			}
		}
	}
	if !dup {
		return keys, nil
	}
	var uniq []core.Key
	at := make([]int, len(keys))
outer:
	for i := range keys {
		for j := range uniq {
			if uniq[j].ID == keys[i].ID {
				at[i] = j
				continue outer
			}
		}
		at[i] = len(uniq)
		uniq = append(uniq, keys[i])
	}
	return uniq, at
}

// where joins conditions with AND ("TRUE" when there are none).
func where(conds []string) string {
	if len(conds) == 0 {
		return "TRUE"
	}
	return strings.Join(conds, " AND ")
}

// filterCond is the condition on ipCol and userCol that f selects: exact
// comparisons, both (AND) or either (OR). extraIP and extraUser further
// condition each side (for counters: that the key has the field).
// ipSet with ip "" is an IP side that matches nothing (records under a
// filter with only IPGroup), never one that is left out.
func filterCond(a *args, ip string, ipSet bool, extraIP, extraUser string, f core.Filter, argv *[]any) string {
	var ipCond, userCond string
	switch {
	case ip != "":
		ipCond = extraIP + "ip = " + a.ph()
		*argv = append(*argv, ip)
	case ipSet:
		ipCond = "FALSE"
	}
	if f.Username != "" {
		userCond = extraUser + "username = " + a.ph()
		*argv = append(*argv, f.Username)
	}
	switch {
	case ipCond == "" && userCond == "":
		return "TRUE"
	case ipCond != "" && userCond != "" && f.Either:
		return "((" + ipCond + ") OR (" + userCond + "))"
	case ipCond != "" && userCond != "":
		return "(" + ipCond + " AND " + userCond + ")"
	case ipCond != "":
		return "(" + ipCond + ")"
	default:
		return "(" + userCond + ")"
	}
}

// ResetCounters is the statement that deletes the counters whose keys match
// f (core.Key.Matches), with its arguments.
func (s *Statements) ResetCounters(f core.Filter) (string, []any) {
	var a args
	var argv []any
	cond := filterCond(&a, f.IPKey(), f.IPKey() != "",
		fmt.Sprintf("(params & %d) <> 0 AND ", int(core.ParamIPAddress)),
		fmt.Sprintf("(params & %d) <> 0 AND ", int(core.ParamUsername)), f, &argv)
	return "DELETE FROM " + s.counters + " WHERE " + cond, argv
}

// ResetAttempts is the statement that deletes the attempt records that
// match f (core.Filter.MatchesRecord), with its arguments.
func (s *Statements) ResetAttempts(f core.Filter) (string, []any) {
	var a args
	var argv []any
	return "DELETE FROM " + s.attempts + " WHERE " + recordCond(&a, f, &argv), argv
}

// recordCond is the condition on a record table's ip and username columns
// that f selects (core.Filter.MatchesRecord): records compare IP exactly,
// so a filter with only IPGroup matches no record by IP.
func recordCond(a *args, f core.Filter, argv *[]any) string {
	return filterCond(a, f.IP, f.IP != "" || f.IPGroup != "", "", "", f, argv)
}

// AnyAttempt is the statement that reports whether any attempt record is
// kept.
func (s *Statements) AnyAttempt() string {
	return "SELECT EXISTS (SELECT 1 FROM " + s.attempts + ")"
}

// RecordFailure is the upsert of an attempt record; arguments from
// FailureArgs.
func (s *Statements) RecordFailure() string {
	return `INSERT INTO ` + s.attempts + ` AS a (username, ip, user_agent, accept, path, get_data, post_data, failures, first_attempt, last_attempt)
VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)
ON CONFLICT (username, ip, user_agent) DO UPDATE SET
	failures = a.failures + 1,
	accept = excluded.accept,
	path = excluded.path,
	get_data = excluded.get_data,
	post_data = excluded.post_data,
	last_attempt = excluded.last_attempt`
}

// FailureArgs are the arguments of RecordFailure. A new record's
// FirstAttempt is rec.FirstAttempt, or rec.LastAttempt when that is zero.
func FailureArgs(rec *core.AttemptRecord) []any {
	first := rec.FirstAttempt
	if first.IsZero() {
		first = rec.LastAttempt
	}
	return []any{rec.Username, rec.IP, rec.UserAgent, rec.Accept, rec.Path, rec.GetData, rec.PostData,
		Micros(first), Micros(rec.LastAttempt)}
}

// AppendFailureLog inserts a failure log row; arguments from
// FailureLogArgs.
func (s *Statements) AppendFailureLog() string {
	return "INSERT INTO " + s.failLog + " (username, ip, user_agent, path, time, locked_out) VALUES ($1, $2, $3, $4, $5, $6)"
}

// FailureLogArgs are the arguments of AppendFailureLog: the row takes
// rec.LastAttempt as its time.
func FailureLogArgs(rec *core.AttemptRecord, lockedOut bool) []any {
	return []any{rec.Username, rec.IP, rec.UserAgent, rec.Path, Micros(rec.LastAttempt), lockedOut}
}

// TrimFailureLogs keeps the newest $2 failure log rows of username $1 (by
// ID) and deletes the older ones.
func (s *Statements) TrimFailureLogs() string {
	return "DELETE FROM " + s.failLog + " WHERE username = $1 AND id <= (SELECT id FROM " + s.failLog +
		" WHERE username = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)"
}

// RecordLogin inserts an access log row; arguments from LoginArgs.
func (s *Statements) RecordLogin() string {
	return "INSERT INTO " + s.accessLogs + " (username, ip, user_agent, path, login_time, logout_time) VALUES ($1, $2, $3, $4, $5, $6)"
}

// LoginArgs are the arguments of RecordLogin.
func LoginArgs(l *core.AccessLog) []any {
	return []any{l.Username, l.IP, l.UserAgent, l.Path, Micros(l.LoginTime), NullMicros(l.LogoutTime)}
}

// RecordLogout closes the newest open access log of username $1 from ip $2
// (any ip when $2 is empty) at $3.
func (s *Statements) RecordLogout() string {
	return "UPDATE " + s.accessLogs + " SET logout_time = $3 WHERE id = (SELECT id FROM " + s.accessLogs +
		" WHERE username = $1 AND ($2 = '' OR ip = $2) AND logout_time IS NULL ORDER BY id DESC LIMIT 1)"
}

// DeleteAccessLogs deletes the access logs that logged in before $1, or
// all of them (no argument) when before is zero.
func (s *Statements) DeleteAccessLogs(before time.Time) (string, []any) {
	return deleteBefore(s.accessLogs, "login_time", before)
}

// DeleteFailureLogs deletes the failure logs older than before, or all of
// them when before is zero.
func (s *Statements) DeleteFailureLogs(before time.Time) (string, []any) {
	return deleteBefore(s.failLog, "time", before)
}

func deleteBefore(table, col string, before time.Time) (string, []any) {
	if before.IsZero() {
		return "DELETE FROM " + table, nil
	}
	return "DELETE FROM " + table + " WHERE " + col + " < $1", []any{Micros(before)}
}
