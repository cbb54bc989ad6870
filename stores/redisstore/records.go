package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goaxes/axes/core"
)

// recordID is an attempt record's identity, (username, IP, user agent),
// length-prefixed so that no two triples share it.
func recordID(username, ip, userAgent string) string {
	b := make([]byte, 0, len(username)+len(ip)+len(userAgent)+12)
	b = strconv.AppendInt(b, int64(len(username)), 10)
	b = append(b, ':')
	b = append(b, username...)
	b = strconv.AppendInt(b, int64(len(ip)), 10)
	b = append(b, ':')
	b = append(b, ip...)
	b = append(b, userAgent...)
	return string(b)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// RecordFailure implements core.RecordStore: one round trip. A new record
// starts with one failure and FirstAttempt set to rec.FirstAttempt, or
// rec.LastAttempt when that is zero; failure log rows take rec.LastAttempt
// as their Time.
func (s *Store) RecordFailure(ctx context.Context, rec core.AttemptRecord, failureLog bool, lockedOut bool, perUser int) error {
	first := rec.FirstAttempt
	if first.IsZero() {
		first = rec.LastAttempt
	}
	keys := []string{
		s.kRecords,
		s.base + "r:" + recordID(rec.Username, rec.IP, rec.UserAgent),
		s.base + "ri:" + rec.IP,
		s.base + "ru:" + rec.Username,
		s.kRecorded,
		s.kFailures,
		s.kFailureSeq,
		s.base + "fu:" + rec.Username,
	}
	err := recordFailureScript.Run(ctx, s.rdb, keys,
		s.base, rec.Username, rec.IP, rec.UserAgent, rec.Accept, rec.Path, rec.GetData, rec.PostData,
		fmtTime(first), fmtTime(rec.LastAttempt), micros(rec.LastAttempt),
		ttlMS(s.opts.RecordTTL), cutoff(rec.LastAttempt, s.opts.RecordTTL), s.opts.MaxAttempts,
		flag(failureLog), flag(lockedOut), perUser, s.opts.MaxLogs,
		ttlMS(s.opts.LogTTL), cutoff(rec.LastAttempt, s.opts.LogTTL),
	).Err()
	if err != nil {
		return wrap("record failure", err)
	}
	return nil
}

// RecordLogin implements core.RecordStore: one round trip. The row's ID is
// assigned by the store.
func (s *Store) RecordLogin(ctx context.Context, log core.AccessLog) error {
	keys := []string{s.kAccess, s.kAccessSeq, s.base + "au:" + log.Username}
	err := recordLoginScript.Run(ctx, s.rdb, keys,
		s.base, log.Username, log.IP, log.UserAgent, log.Path,
		fmtTime(log.LoginTime), fmtTime(log.LogoutTime), micros(log.LoginTime),
		ttlMS(s.opts.LogTTL), cutoff(log.LoginTime, s.opts.LogTTL), s.opts.MaxLogs,
	).Err()
	if err != nil {
		return wrap("record login", err)
	}
	return nil
}

// RecordLogout implements core.RecordStore: one round trip.
func (s *Store) RecordLogout(ctx context.Context, username, ip string, at time.Time) error {
	err := recordLogoutScript.Run(ctx, s.rdb, []string{s.base + "au:" + username}, s.base, ip, fmtTime(at)).Err()
	if err != nil {
		return wrap("record logout", err)
	}
	return nil
}

// DeleteAccessLogs implements core.RecordStore: one round trip.
func (s *Store) DeleteAccessLogs(ctx context.Context, before time.Time) (int, error) {
	n, err := s.deleteLogs(ctx, s.kAccess, "a:", "au:", "li", before)
	if err != nil {
		return 0, wrap("delete access logs", err)
	}
	return n, nil
}

// DeleteFailureLogs implements core.RecordStore: one round trip.
func (s *Store) DeleteFailureLogs(ctx context.Context, before time.Time) (int, error) {
	n, err := s.deleteLogs(ctx, s.kFailures, "f:", "fu:", "t", before)
	if err != nil {
		return 0, wrap("delete failure logs", err)
	}
	return n, nil
}

func (s *Store) deleteLogs(ctx context.Context, index, hp, up, field string, before time.Time) (int, error) {
	us, exact := "", ""
	if !before.IsZero() {
		us, exact = micros(before), fmtTime(before)
	}
	n, err := deleteLogsScript.Run(ctx, s.rdb, []string{index}, s.base+hp, s.base+up, field, us, exact).Int64()
	return int(n), err
}

// list reads the rows of one index: one round trip.
func (s *Store) list(ctx context.Context, index, hashPrefix string) ([]row, error) {
	reply, err := listScript.Run(ctx, s.rdb, []string{index}, hashPrefix).Slice()
	if err != nil {
		return nil, err
	}
	rows := make([]row, 0, len(reply))
	for _, r := range reply {
		vs, ok := r.([]any)
		if !ok || len(vs) < 1 {
			return nil, fmt.Errorf("unexpected reply %T", r)
		}
		id, _ := vs[0].(string)
		x := row{id: id, f: make(map[string]string, (len(vs)-1)/2)}
		for i := 1; i+1 < len(vs); i += 2 {
			k, _ := vs[i].(string)
			v, _ := vs[i+1].(string)
			x.f[k] = v
		}
		rows = append(rows, x)
	}
	return rows, nil
}

type row struct {
	id string
	f  map[string]string
}

// narrow picks the smallest index that holds every row matching f: the
// username's or the IP's when f requires it, else all.
func narrow(f core.Filter, all, byIP, byUser string) string {
	switch {
	case f.Username != "" && (!f.Either || f.IP == ""):
		return byUser
	case byIP != "" && f.IP != "" && (!f.Either || f.Username == ""):
		return byIP
	}
	return all
}

// Attempts implements core.RecordStore. It reads the matching records in
// one round trip (all of them, up to MaxAttempts, unless the filter names
// a username or an IP) and searches, sorts and pages them here.
func (s *Store) Attempts(ctx context.Context, q core.ListQuery) ([]core.AttemptRecord, int, error) {
	index := narrow(q.Filter, s.kRecords, s.base+"ri:"+q.Filter.IP, s.base+"ru:"+q.Filter.Username)
	rows, err := s.list(ctx, index, "")
	if err != nil {
		return nil, 0, wrap("attempts", err)
	}
	search := strings.ToLower(q.Search)
	var out []core.AttemptRecord
	for _, r := range rows {
		n, _ := strconv.Atoi(r.f["n"])
		a := core.AttemptRecord{
			Username:     r.f["u"],
			IP:           r.f["ip"],
			UserAgent:    r.f["ua"],
			Accept:       r.f["ac"],
			Path:         r.f["p"],
			GetData:      r.f["g"],
			PostData:     r.f["po"],
			Failures:     n,
			FirstAttempt: parseTime(r.f["fa"]),
			LastAttempt:  parseTime(r.f["la"]),
		}
		if q.Filter.MatchesRecord(a.IP, a.Username) && matchesSearch(search, a.IP, a.Username, a.UserAgent, a.Path) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, attemptOrder(q.Sort, q.Asc))
	return page(out, q), len(out), nil
}

// AccessLogs implements core.RecordStore, as Attempts does.
func (s *Store) AccessLogs(ctx context.Context, q core.ListQuery) ([]core.AccessLog, int, error) {
	index := narrow(q.Filter, s.kAccess, "", s.base+"au:"+q.Filter.Username)
	rows, err := s.list(ctx, index, s.base+"a:")
	if err != nil {
		return nil, 0, wrap("access logs", err)
	}
	search := strings.ToLower(q.Search)
	var out []core.AccessLog
	for _, r := range rows {
		id, _ := strconv.ParseInt(r.id, 10, 64)
		l := core.AccessLog{
			ID:         id,
			Username:   r.f["u"],
			IP:         r.f["ip"],
			UserAgent:  r.f["ua"],
			Path:       r.f["p"],
			LoginTime:  parseTime(r.f["li"]),
			LogoutTime: parseTime(r.f["lo"]),
		}
		if q.Filter.MatchesRecord(l.IP, l.Username) && matchesSearch(search, l.IP, l.Username, l.UserAgent, l.Path) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, accessOrder(q.Sort, q.Asc))
	return page(out, q), len(out), nil
}

// FailureLogs implements core.RecordStore, as Attempts does.
func (s *Store) FailureLogs(ctx context.Context, q core.ListQuery) ([]core.FailureLog, int, error) {
	index := narrow(q.Filter, s.kFailures, "", s.base+"fu:"+q.Filter.Username)
	rows, err := s.list(ctx, index, s.base+"f:")
	if err != nil {
		return nil, 0, wrap("failure logs", err)
	}
	search := strings.ToLower(q.Search)
	var out []core.FailureLog
	for _, r := range rows {
		id, _ := strconv.ParseInt(r.id, 10, 64)
		l := core.FailureLog{
			ID:        id,
			Username:  r.f["u"],
			IP:        r.f["ip"],
			UserAgent: r.f["ua"],
			Path:      r.f["p"],
			Time:      parseTime(r.f["t"]),
			LockedOut: r.f["lo"] == "1",
		}
		if q.Filter.MatchesRecord(l.IP, l.Username) && matchesSearch(search, l.IP, l.Username, l.UserAgent, l.Path) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, failureOrder(q.Sort, q.Asc))
	return page(out, q), len(out), nil
}

// matchesSearch reports whether any field contains search, which is lower
// case already.
func matchesSearch(search string, fields ...string) bool {
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

func page[T any](rows []T, q core.ListQuery) []T {
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

// direct orders by primary, then by tie, descending unless asc; the tie
// breaks in the same direction so that paging is stable.
func direct[T any](asc bool, primary, tie func(a, b T) int) func(a, b T) int {
	return func(a, b T) int {
		c := primary(a, b)
		if c == 0 {
			c = tie(a, b)
		}
		if !asc {
			c = -c
		}
		return c
	}
}

func attemptOrder(sort string, asc bool) func(a, b core.AttemptRecord) int {
	tie := func(a, b core.AttemptRecord) int {
		return cmp.Or(a.LastAttempt.Compare(b.LastAttempt), cmp.Compare(a.Username, b.Username),
			cmp.Compare(a.IP, b.IP), cmp.Compare(a.UserAgent, b.UserAgent))
	}
	var primary func(a, b core.AttemptRecord) int
	switch sort {
	case "username":
		primary = func(a, b core.AttemptRecord) int { return cmp.Compare(a.Username, b.Username) }
	case "ip":
		primary = func(a, b core.AttemptRecord) int { return cmp.Compare(a.IP, b.IP) }
	case "user_agent":
		primary = func(a, b core.AttemptRecord) int { return cmp.Compare(a.UserAgent, b.UserAgent) }
	case "path":
		primary = func(a, b core.AttemptRecord) int { return cmp.Compare(a.Path, b.Path) }
	case "failures":
		primary = func(a, b core.AttemptRecord) int { return cmp.Compare(a.Failures, b.Failures) }
	case "first_attempt":
		primary = func(a, b core.AttemptRecord) int { return a.FirstAttempt.Compare(b.FirstAttempt) }
	default:
		primary = tie
	}
	return direct(asc, primary, tie)
}

func accessOrder(sort string, asc bool) func(a, b core.AccessLog) int {
	tie := func(a, b core.AccessLog) int { return cmp.Compare(a.ID, b.ID) }
	var primary func(a, b core.AccessLog) int
	switch sort {
	case "username":
		primary = func(a, b core.AccessLog) int { return cmp.Compare(a.Username, b.Username) }
	case "ip":
		primary = func(a, b core.AccessLog) int { return cmp.Compare(a.IP, b.IP) }
	case "user_agent":
		primary = func(a, b core.AccessLog) int { return cmp.Compare(a.UserAgent, b.UserAgent) }
	case "path":
		primary = func(a, b core.AccessLog) int { return cmp.Compare(a.Path, b.Path) }
	case "logout_time":
		primary = func(a, b core.AccessLog) int { return a.LogoutTime.Compare(b.LogoutTime) }
	default:
		primary = func(a, b core.AccessLog) int { return a.LoginTime.Compare(b.LoginTime) }
	}
	return direct(asc, primary, tie)
}

func failureOrder(sort string, asc bool) func(a, b core.FailureLog) int {
	tie := func(a, b core.FailureLog) int { return cmp.Compare(a.ID, b.ID) }
	var primary func(a, b core.FailureLog) int
	switch sort {
	case "username":
		primary = func(a, b core.FailureLog) int { return cmp.Compare(a.Username, b.Username) }
	case "ip":
		primary = func(a, b core.FailureLog) int { return cmp.Compare(a.IP, b.IP) }
	case "user_agent":
		primary = func(a, b core.FailureLog) int { return cmp.Compare(a.UserAgent, b.UserAgent) }
	case "path":
		primary = func(a, b core.FailureLog) int { return cmp.Compare(a.Path, b.Path) }
	default:
		primary = func(a, b core.FailureLog) int { return a.Time.Compare(b.Time) }
	}
	return direct(asc, primary, tie)
}
