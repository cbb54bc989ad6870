package core

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// storeEsc starts every escape of StoreEscape: U+FFFD, the replacement
// character, which no legitimate username, user agent or path contains.
const storeEsc = "\uFFFD"

// StoreEscape returns s as every store can keep it in a text column: valid
// UTF-8 without NUL (PostgreSQL refuses anything else, SQLite's and Redis'
// text functions stop at a NUL). It is the one place where request bytes
// are made storable; the Engine applies it to every key field, record, log
// and listing filter before a store sees them, so stores may assume it.
//
// The escape is injective (two different strings never give the same
// result, so two clients never share a lockout key) and undone by
// StoreUnescape:
//
//   - a byte that is not part of valid UTF-8 becomes U+FFFD followed by its
//     two lower-case hex digits ("\xff" → "\uFFFDff");
//   - NUL becomes "\uFFFD00";
//   - U+FFFD itself becomes "\uFFFD\uFFFD";
//   - everything else is kept.
//
// A string that is valid UTF-8 without NUL and without U+FFFD, which is
// every real username, user agent and path, is returned as it is, without
// allocating: keys and records of ordinary requests are what they were
// before the escape existed. See docs/security.md.
func StoreEscape(s string) string {
	if storeSafe(s) {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		c := s[i]
		if c != 0 && c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == 0 || (r == utf8.RuneError && n == 1):
			b.WriteString(storeEsc)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		case r == utf8.RuneError: // U+FFFD itself
			b.WriteString(storeEsc + storeEsc)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// StoreUnescape returns the string that StoreEscape turned into s: what a
// request sent, from what a store keeps. Use it to build a request or a
// Filter from a record (the Engine escapes them again). Text that
// StoreEscape cannot have written (a lone U+FFFD, as stored before the
// escape existed) is kept as it is.
func StoreUnescape(s string) string {
	i := strings.Index(s, storeEsc)
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i >= 0 {
		b = append(b, s[:i]...)
		s = s[i+len(storeEsc):]
		switch {
		case strings.HasPrefix(s, storeEsc):
			b = append(b, storeEsc...)
			s = s[len(storeEsc):]
		case len(s) >= 2 && lowerHex(s[0]) >= 0 && lowerHex(s[1]) >= 0:
			b = append(b, byte(lowerHex(s[0])<<4|lowerHex(s[1])))
			s = s[2:]
		default:
			b = append(b, storeEsc...)
		}
		i = strings.Index(s, storeEsc)
	}
	return string(append(b, s...))
}

// lowerHex is the value of a lower-case hex digit, or -1.
func lowerHex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// storeSafe reports whether StoreEscape leaves s as it is: valid UTF-8
// without NUL and without U+FFFD. ASCII is checked byte by byte, without
// allocating.
func storeSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return false
		}
		if c >= utf8.RuneSelf {
			rest := s[i:]
			return utf8.ValidString(rest) && strings.IndexByte(rest, 0) < 0 && !strings.Contains(rest, storeEsc)
		}
	}
	return true
}

// storeSafe returns f with its values escaped (StoreEscape).
func (f Filter) storeSafe() Filter {
	f.IP, f.IPGroup, f.Username = StoreEscape(f.IP), StoreEscape(f.IPGroup), StoreEscape(f.Username)
	return f
}

// storeSafe returns q with its filter and search escaped (StoreEscape): a
// search for a raw byte finds the records whose fields had it.
func (q ListQuery) storeSafe() ListQuery {
	q.Filter, q.Search = q.Filter.storeSafe(), StoreEscape(q.Search)
	return q
}

// storeSafe escapes every text field of rec (StoreEscape).
func (rec *AttemptRecord) storeSafe() {
	for _, f := range [...]*string{&rec.Username, &rec.IP, &rec.UserAgent, &rec.Accept, &rec.Path, &rec.GetData, &rec.PostData} {
		*f = StoreEscape(*f)
	}
}

// storeSafe escapes every text field of l (StoreEscape).
func (l *AccessLog) storeSafe() {
	l.Username, l.IP, l.UserAgent, l.Path = StoreEscape(l.Username), StoreEscape(l.IP), StoreEscape(l.UserAgent), StoreEscape(l.Path)
}

// safeRecords is the RecordStore of an Engine (and what Records returns):
// the store's records, with every value escaped (StoreEscape) on its way
// in, so that records, logs, their filters and searches hold only what
// every store keeps. Values are passed as requests give them (raw), never
// as a store returned them: those are escaped already (StoreUnescape).
type safeRecords struct{ rs RecordStore }

// safeLoginRecords is safeRecords of a LoginStore.
type safeLoginRecords struct {
	safeRecords
	ls LoginStore
}

// guardRecords returns rs behind safeRecords, keeping its LoginStore; nil
// stays nil.
func guardRecords(rs RecordStore) RecordStore {
	if rs == nil {
		return nil
	}
	if ls, ok := rs.(LoginStore); ok {
		return safeLoginRecords{safeRecords{rs}, ls}
	}
	return safeRecords{rs}
}

func (g safeRecords) RecordFailure(ctx context.Context, rec AttemptRecord, failureLog bool, lockedOut bool, perUser int) error {
	rec.storeSafe()
	return g.rs.RecordFailure(ctx, rec, failureLog, lockedOut, perUser)
}

func (g safeRecords) RecordLogin(ctx context.Context, log AccessLog) error {
	log.storeSafe()
	return g.rs.RecordLogin(ctx, log)
}

func (g safeRecords) RecordLogout(ctx context.Context, username, ip string, at time.Time) error {
	return g.rs.RecordLogout(ctx, StoreEscape(username), StoreEscape(ip), at)
}

func (g safeRecords) Attempts(ctx context.Context, q ListQuery) ([]AttemptRecord, int, error) {
	return g.rs.Attempts(ctx, q.storeSafe())
}

func (g safeRecords) AccessLogs(ctx context.Context, q ListQuery) ([]AccessLog, int, error) {
	return g.rs.AccessLogs(ctx, q.storeSafe())
}

func (g safeRecords) FailureLogs(ctx context.Context, q ListQuery) ([]FailureLog, int, error) {
	return g.rs.FailureLogs(ctx, q.storeSafe())
}

func (g safeRecords) DeleteAccessLogs(ctx context.Context, before time.Time) (int, error) {
	return g.rs.DeleteAccessLogs(ctx, before)
}

func (g safeRecords) DeleteFailureLogs(ctx context.Context, before time.Time) (int, error) {
	return g.rs.DeleteFailureLogs(ctx, before)
}

// ReleaseAndRecordLogin escapes the access log; the keys are the Engine's,
// escaped when they were built.
func (g safeLoginRecords) ReleaseAndRecordLogin(ctx context.Context, keys []Key, now time.Time, p Policy, log AccessLog) error {
	log.storeSafe()
	return g.ls.ReleaseAndRecordLogin(ctx, keys, now, p, log)
}

// StatusRequest is the request whose Engine.Status an attempt record shows
// (the admin page, the CLI, the locked-clients gauge): a login POST from
// the record's IP, username, user agent and path as the client sent them
// (StoreUnescape), so that the Engine builds the record's own keys again.
func (rec AttemptRecord) StatusRequest() *Request {
	h := http.Header{}
	if rec.UserAgent != "" {
		h["User-Agent"] = []string{StoreUnescape(rec.UserAgent)}
	}
	return &Request{RemoteAddr: StoreUnescape(rec.IP), Header: h, Method: http.MethodPost, Path: StoreUnescape(rec.Path), Username: StoreUnescape(rec.Username)}
}
