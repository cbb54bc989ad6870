package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goaxes/axes/core"
)

// The listings of attempt records, access logs and failure logs read the
// matching rows of one index in one round trip (all of them, up to
// MaxAttempts or MaxLogs, unless the filter names a username or an IP)
// and search, sort and page them here. One function, listRows, does it for
// the three; a listing says only what differs.

// listing is what differs between the listings of rows of type T.
type listing[T any] struct {
	op string // names the listing in errors
	// all, byIP and byUser are the key suffixes (after the base) of the
	// index of all rows and the prefixes of the per-IP and per-username
	// indexes ("" when there is none).
	all, byIP, byUser string
	// rows is the key prefix (after the base) of the row hashes; "" when
	// the index members are the keys of the rows.
	rows   string
	decode func(id string, f map[string]string) T
	// cols returns the columns that filters and searches read.
	cols func(*T) columns
	// order returns the order of a ListQuery.Sort, for the columns that
	// are not in columns (nil: the default).
	order func(sort string) func(a, b T) int
	// tie breaks ties (and is the default order when order gives nil and
	// byDefault is nil).
	tie, byDefault func(a, b T) int
}

// columns are those that every listed row has.
type columns struct{ username, ip, userAgent, path string }

var (
	attemptListing = listing[core.AttemptRecord]{
		op: "attempts", all: "R", byIP: "ri:", byUser: "ru:",
		decode: func(_ string, f map[string]string) core.AttemptRecord {
			n, _ := strconv.Atoi(f["n"])
			return core.AttemptRecord{
				Username: f["u"], IP: f["ip"], UserAgent: f["ua"], Accept: f["ac"], Path: f["p"],
				GetData: f["g"], PostData: f["po"], Failures: n,
				FirstAttempt: parseTime(f["fa"]), LastAttempt: parseTime(f["la"]),
			}
		},
		cols: func(a *core.AttemptRecord) columns { return columns{a.Username, a.IP, a.UserAgent, a.Path} },
		order: func(sort string) func(a, b core.AttemptRecord) int {
			switch sort {
			case "failures":
				return func(a, b core.AttemptRecord) int { return cmp.Compare(a.Failures, b.Failures) }
			case "first_attempt":
				return func(a, b core.AttemptRecord) int { return a.FirstAttempt.Compare(b.FirstAttempt) }
			}
			return nil
		},
		tie: func(a, b core.AttemptRecord) int {
			return cmp.Or(a.LastAttempt.Compare(b.LastAttempt), cmp.Compare(a.Username, b.Username),
				cmp.Compare(a.IP, b.IP), cmp.Compare(a.UserAgent, b.UserAgent))
		},
	}
	accessListing = listing[core.AccessLog]{
		op: "access logs", all: "A", byUser: "au:", rows: "a:",
		decode: func(id string, f map[string]string) core.AccessLog {
			n, _ := strconv.ParseInt(id, 10, 64)
			return core.AccessLog{
				ID: n, Username: f["u"], IP: f["ip"], UserAgent: f["ua"], Path: f["p"],
				LoginTime: parseTime(f["li"]), LogoutTime: parseTime(f["lo"]),
			}
		},
		cols: func(l *core.AccessLog) columns { return columns{l.Username, l.IP, l.UserAgent, l.Path} },
		order: func(sort string) func(a, b core.AccessLog) int {
			if sort == "logout_time" {
				return func(a, b core.AccessLog) int { return a.LogoutTime.Compare(b.LogoutTime) }
			}
			return nil
		},
		tie:       func(a, b core.AccessLog) int { return cmp.Compare(a.ID, b.ID) },
		byDefault: func(a, b core.AccessLog) int { return a.LoginTime.Compare(b.LoginTime) },
	}
	failureListing = listing[core.FailureLog]{
		op: "failure logs", all: "F", byUser: "fu:", rows: "f:",
		decode: func(id string, f map[string]string) core.FailureLog {
			n, _ := strconv.ParseInt(id, 10, 64)
			return core.FailureLog{
				ID: n, Username: f["u"], IP: f["ip"], UserAgent: f["ua"], Path: f["p"],
				Time: parseTime(f["t"]), LockedOut: f["lo"] == "1",
			}
		},
		cols:      func(l *core.FailureLog) columns { return columns{l.Username, l.IP, l.UserAgent, l.Path} },
		order:     func(string) func(a, b core.FailureLog) int { return nil },
		tie:       func(a, b core.FailureLog) int { return cmp.Compare(a.ID, b.ID) },
		byDefault: func(a, b core.FailureLog) int { return a.Time.Compare(b.Time) },
	}
)

// Attempts implements core.RecordStore: one round trip.
func (s *Store) Attempts(ctx context.Context, q core.ListQuery) ([]core.AttemptRecord, int, error) {
	return listRows(ctx, s, q, &attemptListing)
}

// AccessLogs implements core.RecordStore: one round trip.
func (s *Store) AccessLogs(ctx context.Context, q core.ListQuery) ([]core.AccessLog, int, error) {
	return listRows(ctx, s, q, &accessListing)
}

// FailureLogs implements core.RecordStore: one round trip.
func (s *Store) FailureLogs(ctx context.Context, q core.ListQuery) ([]core.FailureLog, int, error) {
	return listRows(ctx, s, q, &failureListing)
}

// listRows reads the rows of l that match q from the smallest index that
// holds them all, then searches, sorts and pages them; it returns the page
// and how many rows matched.
func listRows[T any](ctx context.Context, s *Store, q core.ListQuery, l *listing[T]) ([]T, int, error) {
	byIP := ""
	if l.byIP != "" {
		byIP = s.base + l.byIP + q.Filter.IP
	}
	index := narrow(q.Filter, s.base+l.all, byIP, s.base+l.byUser+q.Filter.Username)
	prefix := ""
	if l.rows != "" {
		prefix = s.base + l.rows
	}
	reply, err := listScript.Run(ctx, s.rdb, []string{index}, prefix).Slice()
	if err != nil {
		return nil, 0, wrap(l.op, err)
	}
	search := strings.ToLower(q.Search)
	var out []T
	for _, r := range reply {
		vs, ok := r.([]any)
		if !ok || len(vs) < 1 {
			return nil, 0, wrap(l.op, fmt.Errorf("unexpected reply %T", r))
		}
		id, _ := vs[0].(string)
		f := make(map[string]string, (len(vs)-1)/2)
		for i := 1; i+1 < len(vs); i += 2 {
			k, _ := vs[i].(string)
			v, _ := vs[i+1].(string)
			f[k] = v
		}
		row := l.decode(id, f)
		c := l.cols(&row)
		if q.Filter.MatchesRecord(c.ip, c.username) && core.MatchesSearch(search, c.ip, c.username, c.userAgent, c.path) {
			out = append(out, row)
		}
	}
	slices.SortFunc(out, l.sortFunc(q.Sort, q.Asc))
	return core.PageRows(out, q), len(out), nil
}

// narrow picks the smallest index that holds every row matching f: the
// username's or the IP's (when there is one, byIP != "") when f requires
// it, else all.
func narrow(f core.Filter, all, byIP, byUser string) string {
	switch {
	case f.Username != "" && (!f.Either || f.IP == ""):
		return byUser
	case byIP != "" && f.IP != "" && (!f.Either || f.Username == ""):
		return byIP
	}
	return all
}

// sortFunc orders by the column sort names (the default order for unknown
// names), then by the tie, descending unless asc; the tie breaks in the
// same direction so that paging is stable.
func (l *listing[T]) sortFunc(sort string, asc bool) func(a, b T) int {
	var primary func(a, b T) int
	if col := columnOf(sort); col != nil {
		primary = func(a, b T) int { return cmp.Compare(col(l.cols(&a)), col(l.cols(&b))) }
	} else if primary = l.order(sort); primary == nil {
		primary = l.byDefault
	}
	if primary == nil {
		primary = l.tie
	}
	return func(a, b T) int {
		c := primary(a, b)
		if c == 0 {
			c = l.tie(a, b)
		}
		if !asc {
			c = -c
		}
		return c
	}
}

// columnOf returns the reader of the column that sort names among
// columns, or nil.
func columnOf(sort string) func(columns) string {
	switch sort {
	case "username":
		return func(c columns) string { return c.username }
	case "ip":
		return func(c columns) string { return c.ip }
	case "user_agent":
		return func(c columns) string { return c.userAgent }
	case "path":
		return func(c columns) string { return c.path }
	}
	return nil
}
