package pgstore

import (
	"context"
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
// RecordLogin in one statement (one call of the function
// axes_release_login), one round trip, one transaction.
func (s *Store) ReleaseAndRecordLogin(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, log core.AccessLog) error {
	if err := ctxErr(ctx, "record login"); err != nil {
		return err
	}
	keys, _ = sqlcommon.Distinct(keys)
	if len(keys) == 0 {
		return s.RecordLogin(ctx, log)
	}
	ids := make([]string, len(keys))
	for i := range keys {
		ids[i] = keys[i].ID
	}
	tierF, tierC := tierArgs(&p)
	_, err := s.pool.Exec(ctx, s.releaseLoginN, ids, sqlcommon.Micros(now), p.CoolOff.Microseconds(), tierF, tierC,
		log.Username, log.IP, log.UserAgent, log.Path, sqlcommon.Micros(log.LoginTime), sqlcommon.NullMicros(log.LogoutTime))
	if err != nil {
		return wrap("record login", err)
	}
	return nil
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

// list runs a listing query and, when its page is empty, the count alone.
func list[T any](ctx context.Context, s *Store, op string, q core.ListQuery,
	build func(core.ListQuery, bool) (string, []any), scan func(sqlcommon.Rows) ([]T, int, error)) ([]T, int, error) {
	if err := ctxErr(ctx, op); err != nil {
		return nil, 0, err
	}
	query, argv := build(q, false)
	rows, err := s.pool.Query(ctx, query, argv...)
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	out, total, err := scan(rows)
	rows.Close()
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	if len(out) == 0 && q.Offset > 0 {
		query, argv = build(q, true)
		if err := s.pool.QueryRow(ctx, query, argv...).Scan(&total); err != nil {
			return nil, 0, wrap(op, err)
		}
	}
	return out, total, nil
}

// Attempts implements core.RecordStore.
func (s *Store) Attempts(ctx context.Context, q core.ListQuery) ([]core.AttemptRecord, int, error) {
	return list(ctx, s, "attempts", q, s.stmt.ListAttempts, sqlcommon.ScanAttempts)
}

// AccessLogs implements core.RecordStore.
func (s *Store) AccessLogs(ctx context.Context, q core.ListQuery) ([]core.AccessLog, int, error) {
	return list(ctx, s, "access logs", q, s.stmt.ListAccessLogs, sqlcommon.ScanAccessLogs)
}

// FailureLogs implements core.RecordStore.
func (s *Store) FailureLogs(ctx context.Context, q core.ListQuery) ([]core.FailureLog, int, error) {
	return list(ctx, s, "failure logs", q, s.stmt.ListFailureLogs, sqlcommon.ScanFailureLogs)
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
	tag, err := s.pool.Exec(ctx, q, argv...)
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(tag.RowsAffected()), nil
}
