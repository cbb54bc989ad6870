package sqlcommon

import (
	"context"

	"github.com/goaxes/axes/core"
)

// Conn is what the shared code runs statements on: a pool, a connection
// or a transaction, which each store adapts from its driver (database/sql
// for SQLite, pgx for PostgreSQL).
type Conn interface {
	// Query runs q and hands its rows to scan; they are closed after.
	Query(ctx context.Context, q string, argv []any, scan func(Rows) error) error
	// QueryRow runs q and scans its one row into dest.
	QueryRow(ctx context.Context, q string, argv []any, dest ...any) error
	// Exec runs q and returns how many rows it changed.
	Exec(ctx context.Context, q string, argv ...any) (int64, error)
}

// List runs on c the listing query of q that build returns (see
// ListAttempts) and reads its rows with scan; when the page is empty and q
// starts past the first row, it runs build's count query for the total.
// A done ctx fails it before any query.
func List[T any](ctx context.Context, c Conn, q core.ListQuery,
	build func(core.ListQuery, bool) (string, []any), scan func(Rows) ([]T, int, error)) ([]T, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	var (
		out   []T
		total int
	)
	query, argv := build(q, false)
	err := c.Query(ctx, query, argv, func(rows Rows) (err error) {
		out, total, err = scan(rows)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if len(out) == 0 && q.Offset > 0 {
		query, argv = build(q, true)
		if err := c.QueryRow(ctx, query, argv, &total); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// Reset deletes on c, which is in a transaction of the caller's, the
// counters whose keys match f and the attempt records that match f. It
// returns how many records it removed; when no attempt record is kept at
// all (the store is used as a bare counter store), how many counters.
func (s *Statements) Reset(ctx context.Context, c Conn, f core.Filter) (int, error) {
	q, argv := s.ResetCounters(f)
	counters, err := c.Exec(ctx, q, argv...)
	if err != nil {
		return 0, err
	}
	var kept bool
	if err := c.QueryRow(ctx, s.AnyAttempt(), nil, &kept); err != nil {
		return 0, err
	}
	if !kept {
		return int(counters), nil
	}
	q, argv = s.ResetAttempts(f)
	records, err := c.Exec(ctx, q, argv...)
	return int(records), err
}
