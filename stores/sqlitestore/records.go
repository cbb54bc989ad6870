package sqlitestore

import (
	"context"
	"database/sql"
	"time"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/internal/sqlcommon"
)

// RecordFailure implements core.RecordStore: one upsert, and with
// failureLog an insert and a trim, in one transaction.
func (s *Store) RecordFailure(ctx context.Context, rec core.AttemptRecord, failureLog bool, lockedOut bool, perUser int) error {
	if err := ctxErr(ctx, "record failure"); err != nil {
		return err
	}
	var err error
	if !failureLog {
		_, err = s.exec(ctx, s.stmt.RecordFailure(), sqlcommon.FailureArgs(&rec)...)
	} else {
		err = s.writeTx(ctx, func(c *sql.Conn) error {
			if _, err := c.ExecContext(ctx, s.stmt.RecordFailure(), sqlcommon.FailureArgs(&rec)...); err != nil {
				return err
			}
			if _, err := c.ExecContext(ctx, s.stmt.AppendFailureLog(), sqlcommon.FailureLogArgs(&rec, lockedOut)...); err != nil {
				return err
			}
			if perUser <= 0 {
				return nil
			}
			_, err := c.ExecContext(ctx, s.stmt.TrimFailureLogs(), rec.Username, perUser)
			return err
		})
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
	if _, err := s.exec(ctx, s.stmt.RecordLogin(), sqlcommon.LoginArgs(&log)...); err != nil {
		return wrap("record login", err)
	}
	return nil
}

// RecordLogout implements core.RecordStore.
func (s *Store) RecordLogout(ctx context.Context, username, ip string, at time.Time) error {
	if err := ctxErr(ctx, "record logout"); err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.stmt.RecordLogout(), username, ip, sqlcommon.Micros(at)); err != nil {
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
	rows, err := s.db.QueryContext(ctx, query, argv...)
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
		if err := s.db.QueryRowContext(ctx, query, argv...).Scan(&total); err != nil {
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
	res, err := s.exec(ctx, q, argv...)
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(n), nil
}
