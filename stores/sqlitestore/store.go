// Package sqlitestore keeps axes' lockout counters, attempt records and
// logs in an SQLite database file, through modernc.org/sqlite (pure Go, no
// cgo): the embedded, persistent store, like django-axes' default database
// handler. Lockouts survive restarts, and several processes may share one
// file.
//
// Each Hit on one key is one statement (INSERT … ON CONFLICT … DO UPDATE …
// RETURNING); a Hit on several keys is one BEGIN IMMEDIATE transaction, so
// SQLite's single writer makes it one atomic step across goroutines and
// processes. Open sets WAL mode, synchronous=NORMAL and a busy timeout. The
// store's writes take turns in Go on one connection of their own, since
// SQLite writes one at a time anyway; reads use the others.
//
// # Locked clients cost no write
//
// An attacker who keeps hammering a locked client would otherwise cost one
// write per request (with ResetCoolOffOnFailureDuringLockout, the default,
// every refusal counts: failures + 1, last = now). Instead, the store keeps
// the counters of keys that it found locked in memory (Options.CacheSize)
// and answers their Hits and Peeks from there, counting the refusals in
// memory; the counts are written in one batch within Options.BatchWindow
// (default 100ms), before any Hit, Release, ReleaseAndRecordLogin, Reset
// or Peek of those keys that the cache does not answer (a Clear drops them
// with the key), and on Close. Answering a refused Hit takes a map lookup under a mutex, no
// statement and no allocation. The cache only ever refuses: an attempt that
// may be allowed is always counted by its atomic statement in the
// database, so the exact limit (docs/design.md G1) holds across goroutines and
// processes as before.
//
// A successful login's ReleaseAndRecordLogin (core.LoginStore) is one
// BEGIN IMMEDIATE transaction: the release of every key and the access
// log, committed together or not at all.
//
// Other processes' commits (another app instance, `axes reset-ip` from the
// CLI) are seen through SQLite's PRAGMA data_version on the store's write
// connection, read again before the cache answers whenever the last read is
// older than Options.Recheck (default 10ms, on the monotonic clock). So a
// reset committed by another process at time T is obeyed by every request
// that begins after T + Recheck. When another process committed, the
// pending refusals are written to their rows if those rows are unchanged or
// still locked there (otherwise, reset or cooled off meanwhile, they are
// dropped), and the rest of the cache is dropped.
//
// The trade-offs: another process sharing the file sees a locked key's
// refusals up to BatchWindow late, so its view of when that key's cool-off
// ends may lag by as much; and a crash (not Close) loses the refusals
// counted in the last BatchWindow: lockouts themselves are never cached
// before they are written, so they survive any crash, only their
// extensions may be that much shorter. Set Options.CacheSize to -1 for a
// write per refusal.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/internal/sqlcommon"
)

// Options configure a Store. The zero Options are the defaults.
type Options struct {
	// TablePrefix starts the names of the tables and indexes: letters,
	// digits and underscores. Default "axes_".
	TablePrefix string
	// BusyTimeout is how long Open's connections wait for another
	// process's write. Default 5s.
	BusyTimeout time.Duration
	// MaxConns caps Open's connections (readers run in parallel in WAL
	// mode; writers take turns on one of them). Default 4; ":memory:"
	// always uses 1.
	MaxConns int
	// CacheSize caps the keys whose counters the store keeps in memory
	// while they are locked, to refuse their attempts without a write
	// (see the package comment). Default 4096; -1 turns the cache off.
	CacheSize int
	// BatchWindow is how long refusals of locked keys may be counted in
	// memory before they are written. Default 100ms.
	BatchWindow time.Duration
	// Recheck is how long the cache answers after it last checked that no
	// other connection committed (PRAGMA data_version): the bound on how
	// late a reset made by another process is obeyed. Default 10ms.
	Recheck time.Duration
}

// Store is a core.Store, core.RecordStore and core.LoginStore in SQLite.
// It is safe for concurrent use, and several processes may open the same
// file.
type Store struct {
	db    *sql.DB
	own   bool
	stmt  *sqlcommon.Statements
	reads sqlcommon.Conn // db, for the listings
	// write admits one writer of this process at a time: SQLite writes one
	// at a time anyway, and a queue in Go beats its busy handler, which
	// sleeps and gives up after the busy timeout. Readers do not queue.
	write chan struct{}
	// pinned: the writes use wconn, one connection kept for them, whose
	// data_version tells other connections' commits from the store's own.
	// Without it (a pool of one connection, or no cache), each write takes
	// a pool connection.
	pinned bool
	wconn  *sql.Conn
	// cache answers for locked keys (nil when Options.CacheSize < 0).
	cache            *refusalCache
	flushSQL, rowSQL string
}

var (
	_ core.Store       = (*Store)(nil)
	_ core.RecordStore = (*Store)(nil)
	_ core.LoginStore  = (*Store)(nil)
)

// Schema returns the DDL of SchemaSQL with the names prefixed by
// opts.TablePrefix.
func Schema(opts Options) (string, error) {
	p, err := prefix(opts)
	if err != nil {
		return "", err
	}
	return sqlcommon.Resolve(SchemaSQL, p), nil
}

func prefix(opts Options) (string, error) {
	if opts.TablePrefix == "" {
		return sqlcommon.DefaultPrefix, nil
	}
	if !sqlcommon.ValidIdent(opts.TablePrefix) {
		return "", fmt.Errorf("axes: sqlitestore: Options.TablePrefix %q: want letters, digits and underscores", opts.TablePrefix)
	}
	return opts.TablePrefix, nil
}

// New returns a store on the caller's db, which it never closes, after
// creating the tables when they are missing. db must be opened with the
// "sqlite" driver of modernc.org/sqlite; set a busy timeout and WAL mode in
// its DSN, as Open does, when other processes or other code write to the
// same file. The store's own writes take turns in Go, on one connection of
// db that the store keeps until Close (unless db has at most one
// connection, which the store then shares); Close hands it back and writes
// the pending refusals, so close the store before db.
func New(db *sql.DB, opts Options) (*Store, error) {
	p, err := prefix(opts)
	if err != nil {
		return nil, err
	}
	if opts.CacheSize < -1 || opts.BatchWindow < 0 || opts.Recheck < 0 {
		return nil, errors.New("axes: sqlitestore: Options.CacheSize, BatchWindow and Recheck: want -1 or more, and durations of 0 or more")
	}
	s := &Store{db: db, stmt: sqlcommon.NewStatements(sqlcommon.SQLite, p), reads: sqlConn{db}, write: make(chan struct{}, 1),
		flushSQL: "UPDATE " + p + "counters SET failures = $1, last = $2 WHERE id = $3",
		rowSQL:   "SELECT failures, last FROM " + p + "counters WHERE id = $1"}
	if _, err := db.ExecContext(context.Background(), sqlcommon.Resolve(SchemaSQL, p)); err != nil {
		return nil, fmt.Errorf("axes: sqlitestore: create schema: %w", err)
	}
	if opts.CacheSize >= 0 {
		size, recheck, window := opts.CacheSize, opts.Recheck, opts.BatchWindow
		if size == 0 {
			size = 4096
		}
		if recheck == 0 {
			recheck = 10 * time.Millisecond
		}
		if window == 0 {
			window = 100 * time.Millisecond
		}
		s.cache = newRefusalCache(size, recheck, window)
		s.cache.timer = time.AfterFunc(time.Hour, s.flushLater)
		s.cache.timer.Stop()
		s.pinned = db.Stats().MaxOpenConnections != 1
	}
	return s, nil
}

// Open opens (creating when missing) the database file at path (":memory:"
// for a private in-memory database) in WAL mode with a busy timeout, and
// returns a store that owns it: Close closes it. Its writes queue in Go
// (one at a time); its reads use up to Options.MaxConns connections.
//
// A database file that Open creates is readable and writable by its owner
// only (0600, whatever the umask), and so are its -wal and -shm files,
// which SQLite creates with the mode of the database file: the attempt
// records name users and their addresses. An existing file keeps its mode,
// which is its owner's choice (chmod 600 it, and its -wal and -shm files,
// to close it).
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("axes: sqlitestore: empty path")
	}
	if path != ":memory:" {
		if err := create(path); err != nil {
			return nil, fmt.Errorf("axes: sqlitestore: open %s: %w", path, err)
		}
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	dsn := "file:" + escapePath(path) + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("axes: sqlitestore: open %s: %w", path, err)
	}
	conns := opts.MaxConns
	if conns <= 0 {
		conns = 4
	}
	if path == ":memory:" {
		conns = 1 // each connection would have its own database
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s, err := New(db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// create creates the file at path, empty and 0600, unless there is one:
// SQLite takes an empty file for a new database.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = f.Chmod(0o600) // whatever the umask
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// escapePath makes path safe inside a file: URI.
func escapePath(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(path)
}

// DB returns the database the store uses.
func (s *Store) DB() *sql.DB { return s.db }

// Close writes the refusals counted in memory, hands back the store's
// write connection and closes the database when Open opened it; a store
// from New leaves the caller's db open (and keeps working on it, without
// its cache).
func (s *Store) Close() error {
	var errs []error
	if s.cache != nil {
		_ = s.lock(context.Background())
		c := s.cache
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			s.unlock()
			return nil
		}
		c.timer.Stop()
		c.armed = false
		pending := false
		for _, e := range c.m {
			pending = pending || e.pend > 0
		}
		c.mu.Unlock()
		if pending {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.sync(ctx, nil, true); err != nil {
				errs = append(errs, fmt.Errorf("write the pending refusals: %w", err))
			}
			cancel()
		}
		c.mu.Lock()
		c.closed = true
		clear(c.m)
		c.mu.Unlock()
		if s.wconn != nil {
			_ = s.wconn.Close()
			s.wconn = nil
		}
		s.pinned = false
		s.unlock()
	}
	if s.own {
		if err := s.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("axes: sqlitestore: close: %w", err)
	}
	return nil
}

// wrap names the store and op in err (nil stays nil).
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("axes: sqlitestore: %s: %w", op, err)
}

// ctxErr returns the context's error, wrapped, before any work starts.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return wrap(op, err)
	}
	return nil
}

// lock waits for the store's turn to write.
func (s *Store) lock(ctx context.Context) error {
	select {
	case s.write <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlock() { <-s.write }

// exec runs one write statement in the store's turn.
func (s *Store) exec(ctx context.Context, q string, argv ...any) (sql.Result, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	return s.execLocked(ctx, q, argv...)
}

// execLocked runs one write statement; the writer lock is held.
func (s *Store) execLocked(ctx context.Context, q string, argv ...any) (res sql.Result, err error) {
	err = s.onWriter(ctx, func(c *sql.Conn) (err error) {
		res, err = c.ExecContext(ctx, q, argv...)
		return err
	})
	return res, err
}

// onWriter runs fn on the writer connection (see conn), which it drops
// when fn's error broke it; the writer lock is held.
func (s *Store) onWriter(ctx context.Context, fn func(c *sql.Conn) error) error {
	c, release, err := s.conn(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := fn(c); err != nil {
		s.connFailed(err)
		return err
	}
	return nil
}

// writeTx runs fn in a BEGIN IMMEDIATE transaction: it takes SQLite's write
// lock first, so that what fn reads cannot change before it writes, in this
// process or another.
func (s *Store) writeTx(ctx context.Context, fn func(c *sql.Conn) error) (err error) {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	return s.writeTxLocked(ctx, fn)
}

// writeTxLocked is writeTx with the writer lock held.
func (s *Store) writeTxLocked(ctx context.Context, fn func(c *sql.Conn) error) error {
	return s.onWriter(ctx, func(c *sql.Conn) (err error) {
		if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				// Roll back even when ctx is done.
				_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			}
		}()
		if err := fn(c); err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, "COMMIT")
		return err
	})
}

func checkOut(keys []core.Key, out []core.Counter) error {
	if len(out) < len(keys) {
		return fmt.Errorf("out holds %d counters for %d keys", len(out), len(keys))
	}
	return nil
}

func extendArg(p *core.Policy) int {
	if p.ExtendDuringLockout {
		return 1
	}
	return 0
}

// Hit implements core.Store.
func (s *Store) Hit(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, out []core.Counter) (bool, error) {
	if err := ctxErr(ctx, "hit"); err != nil {
		return false, err
	}
	if err := checkOut(keys, out); err != nil {
		return false, wrap("hit", err)
	}
	if len(keys) == 0 {
		return false, nil
	}
	if s.cache != nil {
		served, err := s.fromCache(ctx, keys, now, &p, out, true)
		if err != nil || served {
			return served, wrap("hit", err)
		}
	}
	if err := s.lock(ctx); err != nil {
		return false, wrap("hit", err)
	}
	defer s.unlock()
	// The statements change these keys' rows: their entries leave the
	// cache first, with their pending refusals written.
	if err := s.evict(ctx, keys, false); err != nil {
		return false, wrap("hit", err)
	}
	if len(keys) == 1 {
		locked, err := s.hitOneLocked(ctx, &keys[0], now, &p, &out[0])
		if err != nil {
			return false, wrap("hit", err)
		}
		if locked && s.cache != nil {
			s.cache.put(keys, out)
		}
		return locked, nil
	}
	uniq, at := sqlcommon.Distinct(keys)
	counters := out
	if at != nil {
		counters = make([]core.Counter, len(uniq))
	}
	var locked bool
	err := s.writeTxLocked(ctx, func(c *sql.Conn) error {
		argv := sqlcommon.PolicyArgs(make([]any, 0, 8+len(uniq)), &p, now, true)
		argv = sqlcommon.IDArgs(argv, uniq)
		if err := c.QueryRowContext(ctx, s.stmt.AnyLocked(len(uniq), len(p.Tiers)), argv...).Scan(&locked); err != nil {
			return err
		}
		if locked && !p.ExtendDuringLockout {
			return s.peek(ctx, c, uniq, now, &p, counters)
		}
		for i := range uniq {
			if _, err := s.hitOne(ctx, c, &uniq[i], now, &p, &counters[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, wrap("hit", err)
	}
	if locked && p.ExtendDuringLockout && s.cache != nil {
		// Every key was counted: counters are their rows.
		s.cache.put(uniq, counters)
	}
	for i := range at {
		out[i] = counters[at[i]]
	}
	return locked, nil
}

// hitOneLocked counts one key on the write connection; the writer lock is
// held.
func (s *Store) hitOneLocked(ctx context.Context, k *core.Key, now time.Time, p *core.Policy, out *core.Counter) (locked bool, err error) {
	err = s.onWriter(ctx, func(c *sql.Conn) (err error) {
		locked, err = s.hitOne(ctx, c, k, now, p, out)
		return err
	})
	return locked, err
}

// queryer is what *sql.DB and *sql.Conn have in common.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// sqlConn adapts a *sql.DB or *sql.Conn to sqlcommon.Conn.
type sqlConn struct{ q queryer }

func (c sqlConn) Query(ctx context.Context, q string, argv []any, scan func(sqlcommon.Rows) error) error {
	rows, err := c.q.QueryContext(ctx, q, argv...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scan(rows)
}

func (c sqlConn) QueryRow(ctx context.Context, q string, argv []any, dest ...any) error {
	return c.q.QueryRowContext(ctx, q, argv...).Scan(dest...)
}

func (c sqlConn) Exec(ctx context.Context, q string, argv ...any) (int64, error) {
	return rowsAffected(c.q.ExecContext(ctx, q, argv...))
}

// rowsAffected is the count of rows that an Exec changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// hitOne counts key k with the one-statement upsert and reports whether it
// was locked before.
func (s *Store) hitOne(ctx context.Context, q queryer, k *core.Key, now time.Time, p *core.Policy, out *core.Counter) (bool, error) {
	argv := sqlcommon.PolicyArgs(make([]any, 0, 14), p, now, true)
	argv = append(argv, extendArg(p))
	argv = sqlcommon.KeyArgs(argv, k)
	var last int64
	var locked bool
	if err := q.QueryRowContext(ctx, s.stmt.Hit(len(p.Tiers)), argv...).Scan(&out.Failures, &last, &locked); err != nil {
		return false, err
	}
	out.Last = sqlcommon.Time(last)
	return locked, nil
}

func (s *Store) peek(ctx context.Context, q queryer, keys []core.Key, now time.Time, p *core.Policy, out []core.Counter) error {
	rows, err := q.QueryContext(ctx, s.stmt.Peek(len(keys)), sqlcommon.IDArgs(make([]any, 0, len(keys)), keys)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return sqlcommon.ScanCounters(rows, keys, p, sqlcommon.Micros(now), out)
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
	if s.cache != nil {
		served, err := s.fromCache(ctx, keys, now, &p, out, false)
		if err != nil || served {
			return wrap("peek", err)
		}
		if s.cache.dirty(keys) {
			// The database must show the refusals counted here.
			if err := s.flush(ctx); err != nil {
				return wrap("peek", err)
			}
		}
	}
	if err := s.peek(ctx, s.db, keys, now, &p, out); err != nil {
		return wrap("peek", err)
	}
	return nil
}

// flush writes the pending refusals.
func (s *Store) flush(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	return s.sync(ctx, nil, true)
}

// Release implements core.Store: the decrement and the deletion of the
// counters it left at zero, in one transaction.
func (s *Store) Release(ctx context.Context, keys []core.Key, now time.Time, p core.Policy) error {
	if err := ctxErr(ctx, "release"); err != nil {
		return err
	}
	keys, _ = sqlcommon.Distinct(keys)
	if len(keys) == 0 {
		return nil
	}
	if err := s.release(ctx, keys, now, &p, nil); err != nil {
		return wrap("release", err)
	}
	return nil
}

// release takes back one failure from keys (distinct, at least one) and
// then runs then, when set, in the same BEGIN IMMEDIATE transaction on the
// writer: all of it or, on error, none. The keys' cache entries leave
// first, with their pending refusals written (a transaction of their own,
// needed only when a refusal of these keys was counted in memory since the
// last batch).
func (s *Store) release(ctx context.Context, keys []core.Key, now time.Time, p *core.Policy, then func(c *sql.Conn) error) error {
	argv := sqlcommon.PolicyArgs(make([]any, 0, 8+len(keys)), p, now, false)
	argv = sqlcommon.IDArgs(argv, keys)
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if err := s.evict(ctx, keys, false); err != nil {
		return err
	}
	return s.writeTxLocked(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, s.stmt.Release(len(keys), len(p.Tiers)), argv...); err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, s.stmt.ReleaseSweep(len(keys)), argv[len(argv)-len(keys):]...); err != nil {
			return err
		}
		if then == nil {
			return nil
		}
		return then(c)
	})
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
	if err := s.lock(ctx); err != nil {
		return wrap("clear", err)
	}
	defer s.unlock()
	var gone []*entry
	if s.cache != nil {
		gone = s.cache.take(keys, false) // their refusals go with them
	}
	if _, err := s.execLocked(ctx, s.stmt.Clear(len(keys)), sqlcommon.IDArgs(nil, keys)...); err != nil {
		if s.cache != nil {
			s.cache.restore(gone)
		}
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
	if err := s.lock(ctx); err != nil {
		return 0, wrap("reset", err)
	}
	defer s.unlock()
	// Write the pending refusals of the keys that stay, and start the cache
	// again.
	if err := s.evict(ctx, nil, true); err != nil {
		return 0, wrap("reset", err)
	}
	var n int
	err := s.writeTxLocked(ctx, func(c *sql.Conn) (err error) {
		n, err = s.stmt.Reset(ctx, sqlConn{c}, f)
		return err
	})
	if err != nil {
		return 0, wrap("reset", err)
	}
	return n, nil
}
