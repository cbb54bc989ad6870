package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/internal/sqlcommon"
)

// The refusal cache answers Hit and Peek for keys that are locked without
// a statement, and counts their refusals in memory until a batched write.
//
// It holds the counters of keys whose last Hit here found them locked,
// copied from the rows that the Hit's statement returned, so that each entry
// is what the database holds (base) plus the refusals counted here since
// (cur = base advanced by pend refusals). The cache stays true to the
// database because:
//
//   - every write of this process goes through one connection (the
//     writer), and every write that changes counters other than a refusal
//     takes the keys' entries out of the cache first, under the writer lock
//     (Hit, Release, ReleaseAndRecordLogin, Clear, Reset), writing their
//     pending refusals back when the keys survive;
//   - other processes' commits (and other connections') are seen through
//     the writer's PRAGMA data_version, which changes exactly when another
//     connection commits. It is read before the cache answers, at most
//     Options.Recheck after the last read; when it changed, the pending
//     refusals are written back and every other entry is dropped.
//
// The cache never allows an attempt: a key the cache does not show locked
// goes to the database, where its Hit is one atomic statement as before, so
// the exact limit across processes (G1) holds whatever the cache holds.
type refusalCache struct {
	size    int           // entries at most
	recheck time.Duration // data_version is read again after this
	window  time.Duration // pending refusals are written within this

	mu    sync.Mutex
	m     map[string]*entry
	epoch time.Time // the origin of verified, on the monotonic clock
	// verified is when (nanoseconds since epoch) the last check of
	// data_version started that showed no other connection's commit.
	verified int64
	closed   bool
	armed    bool // timer is set to write pending refusals
	retry    int  // failed writes in a row
	timer    *time.Timer

	// version is the writer's data_version at the last check, or -1 when
	// unknown (no check yet, or a new writer connection). Guarded by the
	// store's writer lock, not mu.
	version int64
}

// counter is a counters row: failures and last in microseconds.
type counter struct {
	failures int
	last     int64
}

// entry is the cached counter of one key.
type entry struct {
	key  core.Key
	base counter // the row in the database
	cur  counter // the row with this process's pending refusals
	// pend counts the refusals in cur that are not written yet; plast is
	// the latest of their times; limit and coolOff (microseconds) are the
	// policy's at the latest.
	pend    int
	plast   int64
	limit   int
	coolOff int64
	used    bool // answered since the last sweep
}

// stillLocked reports whether row, as another process left it, is locked
// when the latest pending refusal was counted, under that refusal's limit
// and cool-off.
func (e *entry) stillLocked(row counter) bool {
	return e.limit > 0 && row.failures >= e.limit && (e.coolOff <= 0 || e.plast-row.last <= e.coolOff)
}

func newRefusalCache(size int, recheck, window time.Duration) *refusalCache {
	c := &refusalCache{size: size, recheck: recheck, window: window, m: make(map[string]*entry), epoch: time.Now(), version: -1}
	c.verified = -int64(recheck) - 1
	return c
}

// clock is the monotonic time since epoch: the cache's freshness is about
// other processes' real commits, not about the now that callers pass.
func (c *refusalCache) clock() int64 { return int64(time.Since(c.epoch)) }

// lockedAt is core.Policy.Locked on a row at now (microseconds), as the
// statements compute it.
func lockedAt(p *core.Policy, r counter, now int64) bool {
	return p.Limit > 0 && r.failures >= p.Limit && !expiredAt(p, r, now)
}

// expiredAt is core.Policy.Expired on a row at now (microseconds).
func expiredAt(p *core.Policy, r counter, now int64) bool {
	if r.failures <= 0 {
		return true
	}
	d := p.CoolOffAt(r.failures).Microseconds()
	return d > 0 && now-r.last > d
}

// maxCachedKeys is the most keys a Hit or Peek may have to be answered
// from the cache (the engine uses at most three).
const maxCachedKeys = 8

// lookup finds the entries of keys, all distinct; c.mu is held.
func (c *refusalCache) lookup(keys []core.Key, ents *[maxCachedKeys]*entry) bool {
	if len(keys) == 0 || len(keys) > maxCachedKeys || c.closed {
		return false
	}
	for i := range keys {
		e := c.m[keys[i].ID]
		if e == nil {
			return false
		}
		for j := range i {
			if ents[j] == e {
				return false // a repeated key: the statements count it once
			}
		}
		ents[i] = e
	}
	return true
}

// fromCache answers a Hit (hit set) or a Peek from the cache when it can
// (see cached), reading data_version first when the cache is stale.
func (s *Store) fromCache(ctx context.Context, keys []core.Key, now time.Time, p *core.Policy, out []core.Counter, hit bool) (bool, error) {
	served, stale := s.cached(keys, now, p, out, hit)
	if stale {
		if err := s.verify(ctx); err != nil {
			return false, err
		}
		served, _ = s.cached(keys, now, p, out, hit)
	}
	return served, nil
}

// cached answers a Peek, or a Hit (hit set), from the cache when every key
// is cached and, for a Hit, one of them is locked at now; a Hit counts the
// refusal in memory when the policy extends lockouts. It reports whether it
// answered, and stale when it would have but data_version must be read
// first.
func (s *Store) cached(keys []core.Key, now time.Time, p *core.Policy, out []core.Counter, hit bool) (served, stale bool) {
	c := s.cache
	us := sqlcommon.Micros(now)
	var ents [maxCachedKeys]*entry
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lookup(keys, &ents) {
		return false, false
	}
	locked := !hit // a Peek needs no lock
	for _, e := range ents[:len(keys)] {
		if locked {
			break
		}
		locked = lockedAt(p, e.cur, us)
	}
	if !locked {
		return false, false
	}
	if c.clock()-c.verified > int64(c.recheck) {
		return false, true
	}
	count := hit && p.ExtendDuringLockout
	for i, e := range ents[:len(keys)] {
		e.used = true
		if !count {
			out[i] = sqlcommon.Counter(p, e.cur.failures, e.cur.last, us)
			continue
		}
		// The Hit statement: an expired key starts again from one.
		if expiredAt(p, e.cur, us) {
			e.cur.failures = 1
		} else {
			e.cur.failures++
		}
		e.cur.last = us
		e.pend++
		e.plast = max(e.plast, us)
		e.limit, e.coolOff = p.Limit, p.CoolOffAt(e.cur.failures).Microseconds()
		out[i] = core.Counter{Failures: e.cur.failures, Last: sqlcommon.Time(us)}
	}
	if count && !c.armed {
		c.armed = true
		c.timer.Reset(c.window)
	}
	return true, false
}

// dirty reports whether any of keys has refusals not written yet.
func (c *refusalCache) dirty(keys []core.Key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range keys {
		if e := c.m[keys[i].ID]; e != nil && e.pend > 0 {
			return true
		}
	}
	return false
}

// take removes the entries of keys (all of them when all is set) from the
// cache and returns them; the store's writer lock is held.
func (c *refusalCache) take(keys []core.Key, all bool) []*entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var gone []*entry
	if all {
		for id, e := range c.m {
			gone = append(gone, e)
			delete(c.m, id)
		}
		return gone
	}
	for i := range keys {
		if e := c.m[keys[i].ID]; e != nil {
			gone = append(gone, e)
			delete(c.m, keys[i].ID)
		}
	}
	return gone
}

// restore puts back entries that take removed, after a failed write.
func (c *refusalCache) restore(gone []*entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range gone {
		if _, ok := c.m[e.key.ID]; !ok && !c.closed {
			c.m[e.key.ID] = e
		}
	}
}

func anyPending(ents []*entry) bool {
	for _, e := range ents {
		if e.pend > 0 {
			return true
		}
	}
	return false
}

// evict takes the entries of keys (all of them when all is set) out of the
// cache before a write changes their rows, writing their pending refusals
// first; when that write fails they go back. The writer lock is held.
func (s *Store) evict(ctx context.Context, keys []core.Key, all bool) error {
	if s.cache == nil {
		return nil
	}
	gone := s.cache.take(keys, all)
	if anyPending(gone) {
		if err := s.sync(ctx, gone, true); err != nil {
			s.cache.restore(gone)
			return err
		}
	}
	return nil
}

// put caches the counters that a Hit's statements returned for keys (all
// distinct), which that Hit found locked; the writer lock is held.
func (c *refusalCache) put(keys []core.Key, counters []core.Counter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if len(c.m)+len(keys) > c.size {
		c.sweep()
		if len(c.m)+len(keys) > c.size {
			return
		}
	}
	for i := range keys {
		r := counter{failures: counters[i].Failures, last: sqlcommon.Micros(counters[i].Last)}
		if counters[i].Last.IsZero() {
			r.last = 0
		}
		k := keys[i]
		k.ID, k.IP, k.Username, k.UserAgent = cloneString(k.ID), cloneString(k.IP), cloneString(k.Username), cloneString(k.UserAgent)
		c.m[k.ID] = &entry{key: k, base: r, cur: r}
	}
}

func cloneString(s string) string {
	if s == "" {
		return ""
	}
	return string([]byte(s))
}

// sweep drops the entries without pending refusals that answered nothing
// since the last sweep; c.mu is held.
func (c *refusalCache) sweep() {
	for id, e := range c.m {
		if e.pend == 0 && !e.used {
			delete(c.m, id)
		}
		e.used = false
	}
}

// conn is the writer connection, or a pool connection when the store
// does not keep one; release gives back what conn took. The writer lock is
// held.
func (s *Store) conn(ctx context.Context) (*sql.Conn, func(), error) {
	if !s.pinned {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		return c, func() { c.Close() }, nil
	}
	if s.wconn == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		s.wconn = c
		if s.cache != nil {
			// Another connection: its data_version is new. An empty cache
			// starts from it; entries kept from the last connection are
			// judged against their rows (version unknown).
			s.cache.version = -1
			s.cache.mu.Lock()
			empty := len(s.cache.m) == 0
			s.cache.mu.Unlock()
			if empty {
				v, err := dataVersion(ctx, c)
				if err != nil {
					_ = c.Close()
					s.wconn = nil
					return nil, nil, err
				}
				s.cache.version = v
			}
		}
	}
	return s.wconn, func() {}, nil
}

// connFailed drops the writer connection after an error that broke it.
func (s *Store) connFailed(err error) {
	if s.pinned && s.wconn != nil && (errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// A cancelled statement may leave the connection in any state:
		// take a fresh one next time.
		_ = s.wconn.Close()
		s.wconn = nil
	}
}

func dataVersion(ctx context.Context, c *sql.Conn) (int64, error) {
	var v int64
	err := c.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}

// verify makes the cache fresh: it reads data_version (unless another
// caller just did) and, when another connection committed, writes back the
// pending refusals and drops the other entries.
func (s *Store) verify(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	c := s.cache
	c.mu.Lock()
	fresh := c.clock()-c.verified <= int64(c.recheck)
	c.mu.Unlock()
	if fresh {
		return nil
	}
	return s.sync(ctx, nil, false)
}

// flushLater is the timer's function: it writes the pending refusals.
func (s *Store) flushLater() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := s.cache
	if err := s.lock(ctx); err != nil {
		s.rearm()
		return
	}
	defer s.unlock()
	c.mu.Lock()
	c.armed = false
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return
	}
	if err := s.sync(ctx, nil, true); err != nil {
		if strings.Contains(err.Error(), "database is closed") {
			return // the caller closed db before the store: nothing to write to
		}
		s.rearm() // try again: the refusals stay counted in memory
		return
	}
	c.mu.Lock()
	c.retry = 0
	c.mu.Unlock()
}

// rearm sets the timer again after a failed write, waiting longer after
// each failure (up to a minute).
func (s *Store) rearm() {
	c := s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.armed && !c.closed {
		c.armed = true
		c.retry = min(c.retry+1, 10)
		c.timer.Reset(min(c.window<<c.retry, time.Minute))
	}
}

// pendingSnap is what sync writes of one entry.
type pendingSnap struct {
	e    *entry
	cur  counter
	pend int
}

// sync writes back the pending refusals of the cache and of gone (entries
// that take removed) when flush is set, or, when there are none or flush
// is not set, only reads data_version when no other connection committed. When another connection committed since the
// last read, each pending entry is checked against its row: refusals are
// written on the row they were counted on, merged into a row that another
// process changed but that is still locked, and dropped when the row was
// reset, released or expired meanwhile; every entry without pending
// refusals is dropped. The writer lock is held.
func (s *Store) sync(ctx context.Context, gone []*entry, flush bool) error {
	start := s.cache.clock()
	return s.onWriter(ctx, func(cn *sql.Conn) error { return s.syncOn(ctx, cn, start, gone, flush) })
}

// syncOn is sync on the writer connection cn, from start (the cache's
// clock).
func (s *Store) syncOn(ctx context.Context, cn *sql.Conn, start int64, gone []*entry, flush bool) (err error) {
	c := s.cache

	c.mu.Lock()
	var snaps []pendingSnap
	for _, e := range c.m {
		if e.pend > 0 {
			snaps = append(snaps, pendingSnap{e, e.cur, e.pend})
		}
	}
	for _, e := range gone {
		if e.pend > 0 {
			snaps = append(snaps, pendingSnap{e, e.cur, e.pend})
		}
	}
	c.mu.Unlock()

	if len(snaps) == 0 || !flush {
		v, err := dataVersion(ctx, cn)
		if err != nil {
			return err
		}
		if v == c.version || len(snaps) == 0 {
			c.mu.Lock()
			if v != c.version {
				// Another connection committed and nothing is pending:
				// drop every entry (their rows may have changed).
				clear(c.m)
				c.version = v
			}
			c.verified = start
			c.mu.Unlock()
			return nil
		}
	}

	if _, err := cn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = cn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	v, err := dataVersion(ctx, cn)
	if err != nil {
		return err
	}
	if v == c.version {
		// Nobody else wrote: the rows are the entries' bases.
		for _, sn := range snaps {
			if _, err := cn.ExecContext(ctx, s.flushSQL, sn.cur.failures, sn.cur.last, sn.e.key.ID); err != nil {
				return err
			}
		}
		if _, err := cn.ExecContext(ctx, "COMMIT"); err != nil {
			return err
		}
		c.mu.Lock()
		for _, sn := range snaps {
			sn.e.base = sn.cur
			sn.e.pend -= sn.pend
		}
		c.verified = start
		c.mu.Unlock()
		return nil
	}

	// Another connection committed: judge each pending entry against its
	// row, with the cache held still.
	c.mu.Lock()
	defer c.mu.Unlock()
	var pending []*entry
	for _, e := range c.m {
		if e.pend > 0 {
			pending = append(pending, e)
		}
	}
	for _, e := range gone {
		if e.pend > 0 {
			pending = append(pending, e)
		}
	}
	results := make([]counter, len(pending))
	exists := make([]bool, len(pending))
	for i, e := range pending {
		var row counter
		err := cn.QueryRowContext(ctx, s.rowSQL, e.key.ID).Scan(&row.failures, &row.last)
		if errors.Is(err, sql.ErrNoRows) {
			continue // reset or released meanwhile: the refusals go with it
		}
		if err != nil {
			return err
		}
		exists[i] = true
		results[i] = row
		switch {
		case row == e.base:
			results[i] = e.cur
		case e.stillLocked(row):
			results[i] = counter{failures: row.failures + e.pend, last: max(row.last, e.plast)}
		default:
			continue // no longer locked there: the refusals are dropped
		}
		if _, err := cn.ExecContext(ctx, s.flushSQL, results[i].failures, results[i].last, e.key.ID); err != nil {
			return err
		}
	}
	if _, err := cn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	kept := make(map[*entry]int, len(pending))
	for i, e := range pending {
		if exists[i] {
			kept[e] = i
		}
	}
	for id, e := range c.m {
		i, ok := kept[e]
		if !ok {
			delete(c.m, id)
			continue
		}
		e.base, e.cur, e.pend, e.plast = results[i], results[i], 0, 0
	}
	c.version = v
	c.verified = start
	return nil
}
