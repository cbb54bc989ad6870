package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/internal/sqlcommon"
)

// RecordFailure implements core.RecordStore: the upsert, and with
// failureLog the log row and the trim, as one batch (one round trip, one
// implicit transaction).
func (s *Store) RecordFailure(ctx context.Context, rec core.AttemptRecord, failureLog bool, lockedOut bool, perUser int) error {
	if err := ctxErr(ctx, "record failure"); err != nil {
		return err
	}
	var err error
	if !failureLog {
		_, err = s.pool.Exec(ctx, s.stmt.RecordFailure(), sqlcommon.FailureArgs(&rec)...)
	} else {
		var b pgx.Batch
		b.Queue(s.stmt.RecordFailure(), sqlcommon.FailureArgs(&rec)...)
		b.Queue(s.stmt.AppendFailureLog(), sqlcommon.FailureLogArgs(&rec, lockedOut)...)
		if perUser > 0 {
			b.Queue(s.stmt.TrimFailureLogs(), rec.Username, perUser)
		}
		err = s.pool.SendBatch(ctx, &b).Close()
	}
	if err != nil {
		return wrap("record failure", err)
	}
	return nil
}

// RecordLogin implements core.RecordStore. The row's ID is assigned by the
// database.
func (s *Store) RecordLogin(ctx context.Context, log core.AccessLog) error {
	if err := ctxErr(ctx, "record login"); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.stmt.RecordLogin(), sqlcommon.LoginArgs(&log)...); err != nil {
		return wrap("record login", err)
	}
	return nil
}

// ReleaseAndRecordLogin implements core.LoginStore: Release and
// RecordLogin in one statement (releaseLoginSQL), one round trip, one
// transaction.
func (s *Store) ReleaseAndRecordLogin(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, log core.AccessLog) error {
	if err := ctxErr(ctx, "record login"); err != nil {
		return err
	}
	keys, _ = sqlcommon.Distinct(keys)
	if len(keys) == 0 {
		return s.RecordLogin(ctx, log)
	}
	argv := make([]any, 0, 8+2*len(p.Tiers)+len(keys))
	argv = sqlcommon.PolicyArgs(argv, &p, now, false)
	argv = sqlcommon.IDArgs(argv, keys)
	argv = append(argv, sqlcommon.LoginArgs(&log)...)
	if _, err := s.pool.Exec(ctx, s.releaseLoginSQL(len(keys), len(p.Tiers)), argv...); err != nil {
		return wrap("record login", err)
	}
	return nil
}

// loginShape is what the text of releaseLoginSQL depends on.
type loginShape struct{ keys, tiers int }

// releaseLoginSQL is the statement of ReleaseAndRecordLogin on keys
// distinct keys with a policy of tiers cool-off tiers. Its arguments:
// sqlcommon.PolicyArgs without the limit, sqlcommon.IDArgs,
// sqlcommon.LoginArgs. Every value is a scalar parameter, so that the
// server's generic plan is as good as a custom one and the statement is
// planned once per connection, not at every call.
//
// The first part locks the keys' rows in ID order (as the Hit function
// does, so that the two never deadlock) and reads them as they are once
// locked: under READ COMMITTED a row locked after waiting for another
// transaction is read in its newest version. The DELETE and the UPDATE then
// act on those values: a counter at one, or expired, goes; the others lose
// one. They touch disjoint rows, each once, as one statement must.
func (s *Store) releaseLoginSQL(keys, tiers int) string {
	sh := loginShape{keys, tiers}
	if q, ok := s.releaseLogin.Load(sh); ok {
		return q.(string)
	}
	n := 0
	ph := func(cast string) string {
		n++
		return "$" + strconv.Itoa(n) + "::" + cast
	}
	now, base := ph("bigint"), ph("bigint")
	cool := base
	if tiers > 0 {
		var b strings.Builder
		b.WriteString("(CASE")
		for range tiers {
			f, c := ph("integer"), ph("bigint")
			fmt.Fprintf(&b, " WHEN l.failures >= %s THEN %s", f, c)
		}
		fmt.Fprintf(&b, " ELSE %s END)", base)
		cool = b.String()
	}
	ids := make([]string, keys)
	for i := range ids {
		ids[i] = ph("text")
	}
	gone := fmt.Sprintf("(l.failures <= 1 OR (%[1]s > 0 AND %[2]s - l.last > %[1]s))", cool, now)
	q := fmt.Sprintf(`WITH l AS MATERIALIZED (
	SELECT c.id, c.failures, c.last FROM %[1]s AS c WHERE c.id IN (%[2]s) ORDER BY c.id FOR UPDATE
), d AS (
	DELETE FROM %[1]s AS c USING l WHERE c.id = l.id AND %[3]s
), u AS (
	UPDATE %[1]s AS c SET failures = l.failures - 1 FROM l WHERE c.id = l.id AND NOT %[3]s
)
INSERT INTO %[4]s (username, ip, user_agent, path, login_time, logout_time)
VALUES (%[5]s, %[6]s, %[7]s, %[8]s, %[9]s, %[10]s)`,
		s.prefix+"counters", strings.Join(ids, ", "), gone, s.prefix+"access_logs",
		ph("text"), ph("text"), ph("text"), ph("text"), ph("bigint"), ph("bigint"))
	s.releaseLogin.Store(sh, q)
	return q
}

// RecordLogout implements core.RecordStore.
func (s *Store) RecordLogout(ctx context.Context, username, ip string, at time.Time) error {
	if err := ctxErr(ctx, "record logout"); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.stmt.RecordLogout(), username, ip, sqlcommon.Micros(at)); err != nil {
		return wrap("record logout", err)
	}
	return nil
}

// Attempts implements core.RecordStore.
func (s *Store) Attempts(ctx context.Context, q core.ListQuery) ([]core.AttemptRecord, int, error) {
	out, total, err := sqlcommon.List(ctx, s.conn, q, s.stmt.ListAttempts, sqlcommon.ScanAttempts)
	return out, total, wrap("attempts", err)
}

// AccessLogs implements core.RecordStore.
func (s *Store) AccessLogs(ctx context.Context, q core.ListQuery) ([]core.AccessLog, int, error) {
	out, total, err := sqlcommon.List(ctx, s.conn, q, s.stmt.ListAccessLogs, sqlcommon.ScanAccessLogs)
	return out, total, wrap("access logs", err)
}

// FailureLogs implements core.RecordStore.
func (s *Store) FailureLogs(ctx context.Context, q core.ListQuery) ([]core.FailureLog, int, error) {
	out, total, err := sqlcommon.List(ctx, s.conn, q, s.stmt.ListFailureLogs, sqlcommon.ScanFailureLogs)
	return out, total, wrap("failure logs", err)
}

// DeleteAccessLogs implements core.RecordStore.
func (s *Store) DeleteAccessLogs(ctx context.Context, before time.Time) (int, error) {
	q, argv := s.stmt.DeleteAccessLogs(before)
	return s.delete(ctx, "delete access logs", q, argv)
}

// DeleteFailureLogs implements core.RecordStore.
func (s *Store) DeleteFailureLogs(ctx context.Context, before time.Time) (int, error) {
	q, argv := s.stmt.DeleteFailureLogs(before)
	return s.delete(ctx, "delete failure logs", q, argv)
}

func (s *Store) delete(ctx context.Context, op, q string, argv []any) (int, error) {
	if err := ctxErr(ctx, op); err != nil {
		return 0, err
	}
	n, err := s.conn.Exec(ctx, q, argv...)
	return int(n), wrap(op, err)
}
