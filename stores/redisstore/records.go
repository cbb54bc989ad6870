package redisstore

import (
	"context"
	"strconv"
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
		s.recordTTL, cutoff(rec.LastAttempt, s.opts.RecordTTL), s.opts.MaxAttempts,
		flag(failureLog), flag(lockedOut), perUser, s.opts.MaxLogs,
		s.logTTL, cutoff(rec.LastAttempt, s.opts.LogTTL),
	).Err()
	if err != nil {
		return wrap("record failure", err)
	}
	return nil
}

// RecordLogin implements core.RecordStore: one round trip. The row's ID is
// assigned by the store.
func (s *Store) RecordLogin(ctx context.Context, log core.AccessLog) error {
	err := recordLoginScript.Run(ctx, s.rdb, s.loginKeys(make([]string, 0, 3), &log), s.loginArgs(make([]any, 0, 11), &log)...).Err()
	if err != nil {
		return wrap("record login", err)
	}
	return nil
}

// ReleaseAndRecordLogin implements core.LoginStore: Release and
// RecordLogin in one script, one round trip, one atomic step.
func (s *Store) ReleaseAndRecordLogin(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, log core.AccessLog) error {
	if len(keys) == 0 {
		return s.RecordLogin(ctx, log)
	}
	if err := ctx.Err(); err != nil {
		return wrap("record login", err)
	}
	ks := s.loginKeys(s.counterKeys(keys, 3), &log)
	args := s.loginArgs(s.policyArgs(now, &p, 11), &log)
	if err := releaseLoginScript.Run(ctx, s.rdb, ks, args...).Err(); err != nil {
		return wrap("record login", err)
	}
	return nil
}

// loginKeys appends the KEYS of luaLogin.
func (s *Store) loginKeys(dst []string, log *core.AccessLog) []string {
	return append(dst, s.kAccess, s.kAccessSeq, s.base+"au:"+log.Username)
}

// loginArgs appends the ARGV of luaLogin.
func (s *Store) loginArgs(dst []any, log *core.AccessLog) []any {
	return append(dst, s.base, log.Username, log.IP, log.UserAgent, log.Path,
		fmtTime(log.LoginTime), fmtTime(log.LogoutTime), micros(log.LoginTime),
		s.logTTL, cutoff(log.LoginTime, s.opts.LogTTL), s.opts.MaxLogs)
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
