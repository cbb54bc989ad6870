// Package pgstore keeps axes' lockout counters, attempt records and logs in
// PostgreSQL through github.com/jackc/pgx/v5, so that several app instances
// share one lockout state (docs/design.md G8) that survives restarts.
//
// Every decision is one round trip: a Hit on one key is one statement
// (INSERT … ON CONFLICT … DO UPDATE … RETURNING); a Hit on several keys is
// one call of the function axes_hit, created with the tables, which locks
// the keys' rows in ID order (one upsert), then decides and counts (one
// statement), in one transaction. Peek,
// Clear and each listing are one statement; Release and RecordFailure are
// two or three statements sent as one pipelined batch (one round trip, one
// implicit transaction). ReleaseAndRecordLogin, the end of a successful
// login, is one statement. Time always comes from the caller, never from the
// database clock.
package pgstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/internal/redact"
	"github.com/goaxes/axes/stores/internal/sqlcommon"
)

// Options configure a Store. The zero Options are the defaults.
type Options struct {
	// Schema holds the tables and the function, created when missing.
	// Default: the connection's current schema (usually "public").
	Schema string
	// TablePrefix starts the names of the tables, indexes and function:
	// letters, digits and underscores. Default "axes_".
	TablePrefix string
	// SetupTimeout bounds the schema creation in New and Open. Default 30s.
	SetupTimeout time.Duration
}

// Store is a core.Store, core.RecordStore and core.LoginStore in
// PostgreSQL. It is safe for concurrent use, by many goroutines and many
// processes on one database.
type Store struct {
	pool   *pgxpool.Pool
	own    bool
	stmt   *sqlcommon.Statements
	conn   sqlcommon.Conn // pool, for the listings and deletions
	hitN   string         // the call of the several-keys Hit function
	prefix string         // of the tables, qualified
	// releaseLogin caches releaseLoginSQL by shape.
	releaseLogin sync.Map
}

var (
	_ core.Store       = (*Store)(nil)
	_ core.RecordStore = (*Store)(nil)
	_ core.LoginStore  = (*Store)(nil)
)

// Schema returns the DDL of SchemaSQL for opts: names prefixed by
// opts.TablePrefix and qualified by opts.Schema (the tables and function
// are qualified; indexes live in their table's schema). With no Schema the
// names are left unqualified.
func Schema(opts Options) (string, error) {
	prefix, err := checkPrefix(opts)
	if err != nil {
		return "", err
	}
	return resolve(opts.Schema, prefix), nil
}

func checkPrefix(opts Options) (string, error) {
	if opts.TablePrefix == "" {
		return sqlcommon.DefaultPrefix, nil
	}
	if !sqlcommon.ValidIdent(opts.TablePrefix) {
		return "", fmt.Errorf("axes: pgstore: Options.TablePrefix %q: want letters, digits and underscores", opts.TablePrefix)
	}
	return opts.TablePrefix, nil
}

// qualify returns prefix qualified by schema ("" leaves it alone).
func qualify(schema, prefix string) string {
	if schema == "" {
		return prefix
	}
	return pgx.Identifier{schema}.Sanitize() + "." + prefix
}

func resolve(schema, prefix string) string {
	const mark = "\x00"
	ddl := strings.ReplaceAll(SchemaSQL, "INDEX IF NOT EXISTS "+sqlcommon.DefaultPrefix, "INDEX IF NOT EXISTS "+mark)
	ddl = sqlcommon.Resolve(ddl, qualify(schema, prefix))
	return strings.ReplaceAll(ddl, mark, prefix)
}

// New returns a store on the caller's pool, which it never closes, after
// creating the schema, tables and function when they are missing (under an
// advisory lock, so that several processes may start at once).
func New(pool *pgxpool.Pool, opts Options) (*Store, error) {
	prefix, err := checkPrefix(opts)
	if err != nil {
		return nil, err
	}
	timeout := opts.SetupTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	schema := opts.Schema
	if schema == "" {
		// Qualify everything, so that the function finds its tables
		// whatever the caller's search_path.
		if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("axes: pgstore: find the current schema: %w", err)
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('axes: pgstore: schema'))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, resolve(schema, prefix))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("axes: pgstore: create schema: %w", err)
	}
	q := qualify(schema, prefix)
	return &Store{
		pool:   pool,
		stmt:   sqlcommon.NewStatements(sqlcommon.Postgres, q),
		conn:   pgConn{pool},
		hitN:   "SELECT o_id, o_failures, o_last, o_locked FROM " + q + "hit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		prefix: q,
	}, nil
}

// Open connects to the database at dsn (a postgres:// URL or a
// keyword/value string) and returns a store that owns its pool: Close
// closes it. Its errors never show a secret of dsn: its password, in the
// user info or a parameter, or its sslpassword, whatever a misreading
// parser made of it.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("axes: pgstore: bad URL: %s", redact.Message(err.Error(), dsn))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("axes: pgstore: open: %s", redact.Message(err.Error(), dsn))
	}
	s, err := New(pool, opts)
	if err != nil {
		pool.Close()
		return nil, redact.Error(err, dsn)
	}
	s.own = true
	return s, nil
}

// Pool returns the pool the store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool when Open opened it; a store from New leaves the
// caller's pool open.
func (s *Store) Close() error {
	if s.own {
		s.pool.Close()
	}
	return nil
}

// wrap names the store and op in err (nil stays nil).
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("axes: pgstore: %s: %w", op, err)
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgConn adapts a pool or a transaction to sqlcommon.Conn.
type pgConn struct{ q querier }

func (c pgConn) Query(ctx context.Context, q string, argv []any, scan func(sqlcommon.Rows) error) error {
	rows, err := c.q.Query(ctx, q, argv...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scan(rows)
}

func (c pgConn) QueryRow(ctx context.Context, q string, argv []any, dest ...any) error {
	return c.q.QueryRow(ctx, q, argv...).Scan(dest...)
}

func (c pgConn) Exec(ctx context.Context, q string, argv ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, q, argv...)
	return tag.RowsAffected(), err
}

func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return wrap(op, err)
	}
	return nil
}

func checkOut(keys []core.Key, out []core.Counter) error {
	if len(out) < len(keys) {
		return fmt.Errorf("out holds %d counters for %d keys", len(out), len(keys))
	}
	return nil
}

// Hit implements core.Store.
func (s *Store) Hit(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, out []core.Counter) (bool, error) {
	if err := ctxErr(ctx, "hit"); err != nil {
		return false, err
	}
	if err := checkOut(keys, out); err != nil {
		return false, wrap("hit", err)
	}
	var (
		locked bool
		err    error
	)
	switch len(keys) {
	case 0:
		return false, nil
	case 1:
		locked, err = s.hitOne(ctx, &keys[0], now, &p, &out[0])
	default:
		locked, err = s.hitMany(ctx, keys, now, &p, out)
	}
	if err != nil {
		return false, wrap("hit", err)
	}
	return locked, nil
}

func (s *Store) hitOne(ctx context.Context, k *core.Key, now time.Time, p *core.Policy, out *core.Counter) (bool, error) {
	extend := 0
	if p.ExtendDuringLockout {
		extend = 1
	}
	argv := sqlcommon.PolicyArgs(make([]any, 0, 14), p, now, true)
	argv = append(argv, extend)
	argv = sqlcommon.KeyArgs(argv, k)
	var last int64
	var locked bool
	if err := s.pool.QueryRow(ctx, s.stmt.Hit(len(p.Tiers)), argv...).Scan(&out.Failures, &last, &locked); err != nil {
		return false, err
	}
	out.Last = sqlcommon.Time(last)
	return locked, nil
}

func (s *Store) hitMany(ctx context.Context, all []core.Key, now time.Time, p *core.Policy, out []core.Counter) (bool, error) {
	keys, _ := sqlcommon.Distinct(all) // the function takes no repeats
	n := len(keys)
	ids, ips, users, uas := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	params := make([]int32, n)
	for i := range keys {
		k := &keys[i]
		ids[i], params[i], ips[i], users[i], uas[i] = k.ID, int32(k.Params), k.IP, k.Username, k.UserAgent
	}
	tierF, tierC := make([]int32, len(p.Tiers)), make([]int64, len(p.Tiers))
	for i, t := range p.Tiers {
		tierF[i], tierC[i] = int32(min(t.Failures, 1<<31-1)), t.CoolOff.Microseconds()
	}
	nowUS := sqlcommon.Micros(now)
	rows, err := s.pool.Query(ctx, s.hitN, ids, params, ips, users, uas,
		nowUS, p.Limit, p.CoolOff.Microseconds(), tierF, tierC, p.ExtendDuringLockout)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for i := range all {
		out[i] = core.Counter{}
	}
	locked := false
	for rows.Next() {
		var id string
		var failures int
		var last int64
		if err := rows.Scan(&id, &failures, &last, &locked); err != nil {
			return false, err
		}
		c := sqlcommon.Counter(p, failures, last, nowUS)
		for i := range all {
			if all[i].ID == id {
				out[i] = c
			}
		}
	}
	return locked, rows.Err()
}

// Peek implements core.Store.
func (s *Store) Peek(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, out []core.Counter) error {
	if err := ctxErr(ctx, "peek"); err != nil {
		return err
	}
	if err := checkOut(keys, out); err != nil {
		return wrap("peek", err)
	}
	if len(keys) == 0 {
		return nil
	}
	rows, err := s.pool.Query(ctx, s.stmt.Peek(len(keys)), sqlcommon.IDArgs(make([]any, 0, len(keys)), keys)...)
	if err != nil {
		return wrap("peek", err)
	}
	defer rows.Close()
	if err := sqlcommon.ScanCounters(rows, keys, &p, sqlcommon.Micros(now), out); err != nil {
		return wrap("peek", err)
	}
	return nil
}

// Release implements core.Store: the decrement and the deletion of the
// counters it left at zero, in one round trip.
func (s *Store) Release(ctx context.Context, keys []core.Key, now time.Time, p core.Policy) error {
	if err := ctxErr(ctx, "release"); err != nil {
		return err
	}
	keys, _ = sqlcommon.Distinct(keys)
	if len(keys) == 0 {
		return nil
	}
	argv := sqlcommon.PolicyArgs(make([]any, 0, 8+len(keys)), &p, now, false)
	argv = sqlcommon.IDArgs(argv, keys)
	var b pgx.Batch
	b.Queue(s.stmt.Release(len(keys), len(p.Tiers)), argv...)
	b.Queue(s.stmt.ReleaseSweep(len(keys)), sqlcommon.IDArgs(nil, keys)...)
	if err := s.pool.SendBatch(ctx, &b).Close(); err != nil {
		return wrap("release", err)
	}
	return nil
}

// Clear implements core.Store.
func (s *Store) Clear(ctx context.Context, keys []core.Key) error {
	if err := ctxErr(ctx, "clear"); err != nil {
		return err
	}
	keys, _ = sqlcommon.Distinct(keys)
	if len(keys) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, s.stmt.Clear(len(keys)), sqlcommon.IDArgs(nil, keys)...); err != nil {
		return wrap("clear", err)
	}
	return nil
}

// Reset implements core.Store. It deletes the matching counters and attempt
// records in one transaction and returns how many records it removed; when
// the store keeps no attempt records at all (it is used as a bare counter
// store), it returns how many counters it removed.
func (s *Store) Reset(ctx context.Context, f core.Filter) (int, error) {
	if err := ctxErr(ctx, "reset"); err != nil {
		return 0, err
	}
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		n, err = s.stmt.Reset(ctx, pgConn{tx}, f)
		return err
	})
	if err != nil {
		return 0, wrap("reset", err)
	}
	return n, nil
}
