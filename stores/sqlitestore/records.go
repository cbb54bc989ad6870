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

// ReleaseAndRecordLogin implements core.LoginStore: Release and
// RecordLogin in one write transaction on the writer connection, so a
// successful login commits once, not twice.
func (s *Store) ReleaseAndRecordLogin(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, log core.AccessLog) error {
	if err := ctxErr(ctx, "record login"); err != nil {
		return err
	}
	keys, _ = sqlcommon.Distinct(keys)
	if len(keys) == 0 {
		return s.RecordLogin(ctx, log)
	}
	err := s.release(ctx, keys, now, &p, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, s.stmt.RecordLogin(), sqlcommon.LoginArgs(&log)...)
		return err
	})
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
	if _, err := s.exec(ctx, s.stmt.RecordLogout(), username, ip, sqlcommon.Micros(at)); err != nil {
		return wrap("record logout", err)
	}
	return nil
}

// Attempts implements core.RecordStore.
func (s *Store) Attempts(ctx context.Context, q core.ListQuery) ([]core.AttemptRecord, int, error) {
	out, total, err := sqlcommon.List(ctx, s.reads, q, s.stmt.ListAttempts, sqlcommon.ScanAttempts)
	return out, total, wrap("attempts", err)
}

// AccessLogs implements core.RecordStore.
func (s *Store) AccessLogs(ctx context.Context, q core.ListQuery) ([]core.AccessLog, int, error) {
	out, total, err := sqlcommon.List(ctx, s.reads, q, s.stmt.ListAccessLogs, sqlcommon.ScanAccessLogs)
	return out, total, wrap("access logs", err)
}

// FailureLogs implements core.RecordStore.
func (s *Store) FailureLogs(ctx context.Context, q core.ListQuery) ([]core.FailureLog, int, error) {
	out, total, err := sqlcommon.List(ctx, s.reads, q, s.stmt.ListFailureLogs, sqlcommon.ScanFailureLogs)
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
	n, err := rowsAffected(s.exec(ctx, q, argv...))
	return int(n), wrap(op, err)
}
