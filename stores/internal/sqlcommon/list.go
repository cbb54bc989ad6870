package sqlcommon

import (
	"database/sql"
	"strings"

	"github.com/goaxes/axes/core"
)

// Rows is what the drivers' result sets have in common.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// listing describes one record table for ListQuery.
type listing struct {
	columns string
	// sorts maps the accepted ListQuery.Sort names to columns; only these
	// names ever reach the SQL text.
	sorts map[string]string
	def   string
	// tie breaks equal sort keys, in the sort's direction, so that paging
	// is stable.
	tie []string
}

var (
	attemptListing = listing{
		columns: "username, ip, user_agent, accept, path, get_data, post_data, failures, first_attempt, last_attempt",
		sorts: map[string]string{
			"username": "username", "ip": "ip", "user_agent": "user_agent", "path": "path",
			"failures": "failures", "first_attempt": "first_attempt", "last_attempt": "last_attempt",
		},
		def: "last_attempt",
		tie: []string{"last_attempt", "username", "ip", "user_agent"},
	}
	accessListing = listing{
		columns: "id, username, ip, user_agent, path, login_time, logout_time",
		sorts: map[string]string{
			"username": "username", "ip": "ip", "user_agent": "user_agent", "path": "path",
			"login_time": "login_time", "logout_time": "logout_time",
		},
		def: "login_time",
		tie: []string{"id"},
	}
	failureListing = listing{
		columns: "id, username, ip, user_agent, path, time, locked_out",
		sorts: map[string]string{
			"username": "username", "ip": "ip", "user_agent": "user_agent", "path": "path", "time": "time",
		},
		def: "time",
		tie: []string{"id"},
	}
)

// EscapeLike escapes the LIKE wildcards of s with backslashes.
func EscapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '\\' || r == '%' || r == '_' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// list builds the listing query of q on table: the selected columns, then
// the total count of matching rows (a window over the rows before paging).
// countOnly builds the count alone, for a page past the end.
func (s *Statements) list(table string, l *listing, q *core.ListQuery, countOnly bool) (string, []any) {
	var a args
	var argv []any
	conds := []string{recordCond(&a, q.Filter, &argv)}
	if q.Search != "" {
		p := a.ph()
		argv = append(argv, "%"+EscapeLike(q.Search)+"%")
		var ors []string
		for _, col := range []string{"ip", "username", "user_agent", "path"} {
			ors = append(ors, col+" "+s.d.Like+" "+p+` ESCAPE '\'`)
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	var b strings.Builder
	if countOnly {
		b.WriteString("SELECT COUNT(*) FROM " + table + " WHERE " + where(conds))
		return b.String(), argv
	}
	b.WriteString("SELECT " + l.columns + ", COUNT(*) OVER () FROM " + table + " WHERE " + where(conds) + " ORDER BY ")
	col, ok := l.sorts[q.Sort]
	if !ok {
		col = l.def
	}
	dir, nulls := " DESC", " NULLS LAST"
	if q.Asc {
		dir, nulls = " ASC", " NULLS FIRST"
	}
	b.WriteString(col + dir + nulls) // NULL (logout_time) is the zero time: the smallest
	for _, t := range l.tie {
		if t != col {
			b.WriteString(", " + t + dir)
		}
	}
	b.WriteString(" LIMIT " + a.ph() + " OFFSET " + a.ph())
	limit := s.d.NoLimit
	if q.Limit > 0 {
		limit = q.Limit
	}
	argv = append(argv, limit, max(q.Offset, 0))
	return b.String(), argv
}

// ListAttempts, ListAccessLogs and ListFailureLogs return the listing query
// of q with its arguments; scan its rows with the matching Scan function.
// With count set they return the query of the total alone.
func (s *Statements) ListAttempts(q core.ListQuery, count bool) (string, []any) {
	return s.list(s.attempts, &attemptListing, &q, count)
}

// ListAccessLogs: see ListAttempts.
func (s *Statements) ListAccessLogs(q core.ListQuery, count bool) (string, []any) {
	return s.list(s.accessLogs, &accessListing, &q, count)
}

// ListFailureLogs: see ListAttempts.
func (s *Statements) ListFailureLogs(q core.ListQuery, count bool) (string, []any) {
	return s.list(s.failLog, &failureListing, &q, count)
}

// ScanAttempts reads the rows of ListAttempts and the total count.
func ScanAttempts(rows Rows) ([]core.AttemptRecord, int, error) {
	out := []core.AttemptRecord{}
	total := 0
	for rows.Next() {
		var r core.AttemptRecord
		var first, last int64
		if err := rows.Scan(&r.Username, &r.IP, &r.UserAgent, &r.Accept, &r.Path, &r.GetData, &r.PostData,
			&r.Failures, &first, &last, &total); err != nil {
			return nil, 0, err
		}
		r.FirstAttempt, r.LastAttempt = Time(first), Time(last)
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// ScanAccessLogs reads the rows of ListAccessLogs and the total count.
func ScanAccessLogs(rows Rows) ([]core.AccessLog, int, error) {
	out := []core.AccessLog{}
	total := 0
	for rows.Next() {
		var r core.AccessLog
		var login int64
		var logout sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Username, &r.IP, &r.UserAgent, &r.Path, &login, &logout, &total); err != nil {
			return nil, 0, err
		}
		r.LoginTime = Time(login)
		if logout.Valid {
			r.LogoutTime = Time(logout.Int64)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// ScanFailureLogs reads the rows of ListFailureLogs and the total count.
func ScanFailureLogs(rows Rows) ([]core.FailureLog, int, error) {
	out := []core.FailureLog{}
	total := 0
	for rows.Next() {
		var r core.FailureLog
		var at int64
		if err := rows.Scan(&r.ID, &r.Username, &r.IP, &r.UserAgent, &r.Path, &at, &r.LockedOut, &total); err != nil {
			return nil, 0, err
		}
		r.Time = Time(at)
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// ScanCounters reads the rows of Peek (id, failures, last) into out, in
// the order of keys, judging expiry by p at now; keys without a row, or
// whose counter expired, read as the zero Counter.
func ScanCounters(rows Rows, keys []core.Key, p *core.Policy, now int64, out []core.Counter) error {
	for i := range keys {
		out[i] = core.Counter{}
	}
	for rows.Next() {
		var id string
		var c core.Counter
		var last int64
		if err := rows.Scan(&id, &c.Failures, &last); err != nil {
			return err
		}
		c = Counter(p, c.Failures, last, now)
		for i := range keys {
			if keys[i].ID == id {
				out[i] = c
			}
		}
	}
	return rows.Err()
}

// Counter is the counter of a row (failures, last) at now under p: the zero
// Counter when expired.
func Counter(p *core.Policy, failures int, last, now int64) core.Counter {
	if failures <= 0 {
		return core.Counter{}
	}
	if d := p.CoolOffAt(failures).Microseconds(); d > 0 && now-last > d {
		return core.Counter{}
	}
	return core.Counter{Failures: failures, Last: Time(last)}
}
