package core

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryOptions bounds a MemoryStore. Zero fields take their defaults.
type MemoryOptions struct {
	// MaxKeys caps the lockout counters. Default: 1_000_000.
	MaxKeys int
	// MaxRecords caps the attempt records. Default: 100_000.
	MaxRecords int
	// MaxLogs caps the access log rows and, separately, the failure log
	// rows. Default: 100_000 each.
	MaxLogs int
}

// The defaults of MemoryOptions.
const (
	DefaultMemoryMaxKeys    = 1_000_000
	DefaultMemoryMaxRecords = 100_000
	DefaultMemoryMaxLogs    = 100_000
)

const (
	memMaxShards     = 64
	memMinShardKeys  = 16 // fewer shards rather than shards smaller than this
	memEvictSamples  = 8
	memStuckForever  = math.MaxInt64
	memCompactMargin = 64
)

// MemoryStore keeps counters and records in this process's memory; it is
// the default store. It implements Store and RecordStore and is safe for
// concurrent use.
//
// Counters live in up to 64 shards, each behind its own mutex; a call on
// several keys locks their shards in ascending order, so it is one atomic
// step. Expired counters are deleted lazily, when they are read and when
// room is needed.
//
// The store is bounded (docs/design.md G4). MaxKeys is a hard cap on counters, split
// evenly between the shards. When a shard is full, a new key makes room by
// evicting an expired counter, else the least recently updated of a random
// sample of unlocked counters (else of the whole shard). A locked counter —
// one whose failures reached the limit last used for it and that has not
// expired — is never evicted, so spraying new keys cannot flush a lockout.
// When every counter of a full shard is locked, a new key is not stored: its
// Hit reports one failure and not locked, and the key is counted from zero
// again on its next Hit. Records and logs are capped likewise, oldest first.
type MemoryStore struct {
	seed   maphash.Seed
	mask   uint64
	shards []memShard

	rmu      sync.Mutex
	records  memRecords
	opts     MemoryOptions
	recorded bool // RecordFailure was ever called (see Reset)
}

var (
	_ Store       = (*MemoryStore)(nil)
	_ RecordStore = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty store bounded by opts. It holds nothing to
// close; Close is there for symmetry with the other stores.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMemoryMaxKeys
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultMemoryMaxRecords
	}
	if opts.MaxLogs <= 0 {
		opts.MaxLogs = DefaultMemoryMaxLogs
	}
	n := memMaxShards
	for n > 1 && opts.MaxKeys/n < memMinShardKeys {
		n /= 2
	}
	per := max(opts.MaxKeys/n, 1)
	s := &MemoryStore{
		seed:   maphash.MakeSeed(),
		mask:   uint64(n - 1),
		shards: make([]memShard, n),
		opts:   opts,
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.cap = per
		sh.index = make(map[string]int32)
		sh.rng = rand.Uint64() | 1
	}
	s.records.init()
	return s
}

// Len returns the number of counters held, expired ones included until they
// are swept.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.entries.len()
		sh.mu.Unlock()
	}
	return n
}

// Close does nothing and returns nil; the store stays usable.
func (s *MemoryStore) Close() error { return nil }

func memErr(ctx context.Context) error {
	return fmt.Errorf("axes: memory store: %w", ctx.Err())
}

// memEntry is one counter. limit and ttl are those of the last Hit or
// Release that wrote it, for eviction, which has no Policy.
type memEntry struct {
	// What eviction samples comes first, on one cache line.
	failures int32  // saturates at math.MaxInt32
	limit    int32  // math.MaxInt32 for a larger limit: never reached
	last     int64  // unix nanoseconds
	ttl      int64  // cool-off in force, nanoseconds; 0 forever
	id       string // Key.ID; Reset decodes the key from it
}

// clamp32 saturates n into an int32.
func clamp32(n int) int32 {
	return int32(max(min(n, math.MaxInt32), math.MinInt32))
}

// memEntries holds a shard's entries densely (index i in chunk i/memChunk)
// in fixed-size chunks: growing never copies the entries, and the slack is
// at most one chunk, where one growing slice would copy and keep up to
// twice the room.
type memEntries struct {
	chunks [][]memEntry
	n      int
}

const memChunk = 256 // entries per chunk (10 KiB)

func (m *memEntries) len() int { return m.n }

func (m *memEntries) at(i int32) *memEntry { return &m.chunks[i/memChunk][i%memChunk] }

// push appends a new entry of id and returns its index. The first chunk
// grows like a slice, so a small shard stays small; later ones are
// allocated whole.
func (m *memEntries) push(id string) int32 {
	c := m.n / memChunk
	if c == len(m.chunks) {
		size := memChunk
		if c == 0 {
			size = 8
		}
		m.chunks = append(m.chunks, make([]memEntry, 0, size))
	}
	m.chunks[c] = append(m.chunks[c], memEntry{id: id})
	m.n++
	return int32(m.n - 1)
}

// pop removes the last entry. One emptied chunk is kept, so that a shard
// at a chunk boundary (evicting and inserting in turn) does not allocate
// a chunk per insert.
func (m *memEntries) pop() {
	m.n--
	c := m.n / memChunk
	ch := m.chunks[c]
	ch[len(ch)-1] = memEntry{}
	m.chunks[c] = ch[:len(ch)-1]
	if len(m.chunks[c]) == 0 && len(m.chunks) > c+1 {
		m.chunks[c+1] = nil
		m.chunks = m.chunks[:c+1]
	}
}

func (e *memEntry) counter() Counter {
	return Counter{Failures: int(e.failures), Last: time.Unix(0, e.last).UTC()}
}

// expiredAt and lockedAt judge an entry by its own limit and cool-off.
func (e *memEntry) expiredAt(now int64) bool {
	return e.failures <= 0 || (e.ttl > 0 && now-e.last > e.ttl)
}

func (e *memEntry) lockedAt(now int64) bool {
	return e.limit > 0 && e.failures >= e.limit && !e.expiredAt(now)
}

// memShard holds the entries densely (for O(1) random sampling) with an
// index from Key.ID to slot.
type memShard struct {
	mu      sync.Mutex
	index   map[string]int32
	entries memEntries
	cap     int
	rng     uint64
	// stuckUntil, when not 0, says a full scan found every entry locked:
	// new keys are not stored until then (or until an entry may have
	// become evictable).
	stuckUntil int64
	_          [64]byte // keep shards on separate cache lines
}

func (sh *memShard) rand() uint64 {
	x := sh.rng
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	sh.rng = x
	return x
}

// read returns the counter of id at now under p, deleting it when expired.
func (sh *memShard) read(id string, now time.Time, p *Policy) (Counter, int32) {
	i, ok := sh.index[id]
	if !ok {
		return Counter{}, -1
	}
	e := sh.entries.at(i)
	if p.expiredNano(int(e.failures), e.last, now.UnixNano()) {
		sh.remove(i)
		return Counter{}, -1
	}
	return e.counter(), i
}

// readBytes is read for an ID held in bytes.
func (sh *memShard) readBytes(id []byte, now time.Time, p *Policy) Counter {
	i, ok := sh.index[string(id)]
	if !ok {
		return Counter{}
	}
	e := sh.entries.at(i)
	if p.expiredNano(int(e.failures), e.last, now.UnixNano()) {
		sh.remove(i)
		return Counter{}
	}
	return e.counter()
}

func (sh *memShard) remove(i int32) {
	last := int32(sh.entries.len() - 1)
	e := sh.entries.at(i)
	delete(sh.index, e.id)
	if i != last {
		*e = *sh.entries.at(last)
		sh.index[e.id] = i
	}
	sh.entries.pop()
	sh.stuckUntil = 0
}

// write stores failures for key at now, inserting it when missing; it
// reports false when the shard is full of locked counters.
func (sh *memShard) write(k *Key, i int32, failures int, now int64, p *Policy, keys []Key) bool {
	if i < 0 {
		if sh.entries.len() >= sh.cap && !sh.evict(now, keys) {
			return false
		}
		// The ID is copied: the engine's keys may alias its own buffers.
		id := strings.Clone(k.ID)
		i = sh.entries.push(id)
		sh.index[id] = i
	}
	e := sh.entries.at(i)
	e.failures = clamp32(failures)
	e.last = now
	e.limit = clamp32(p.Limit)
	e.ttl = int64(p.coolOff(failures))
	if sh.stuckUntil != 0 && !e.lockedAt(now) {
		sh.stuckUntil = 0
	}
	return true
}

// evict makes room for one entry; it never evicts a locked entry nor one
// of keys (the call in progress). Amortised O(1): a random sample first,
// a full scan (which also sweeps every expired entry) only when the sample
// holds nothing evictable, and no scan again while the shard is known to
// be all locked.
func (sh *memShard) evict(now int64, keys []Key) bool {
	if sh.stuckUntil != 0 && now <= sh.stuckUntil {
		return false
	}
	sh.stuckUntil = 0
	victim := int32(-1)
	for range memEvictSamples {
		if sh.entries.len() == 0 {
			return true
		}
		i := int32(sh.rand() % uint64(sh.entries.len()))
		e := sh.entries.at(i)
		if inKeys(e.id, keys) {
			continue
		}
		if e.expiredAt(now) {
			sh.remove(i)
			return true
		}
		if !e.lockedAt(now) && (victim < 0 || e.last < sh.entries.at(victim).last) {
			victim = i
		}
	}
	if victim >= 0 {
		sh.remove(victim)
		return true
	}
	// Full scan: sweep every expired entry (from the end, so that removals
	// do not skip entries), else evict the oldest unlocked one.
	freed := false
	for i := int32(sh.entries.len() - 1); i >= 0; i-- {
		if e := sh.entries.at(i); e.expiredAt(now) && !inKeys(e.id, keys) {
			sh.remove(i)
			freed = true
		}
	}
	if freed {
		return true
	}
	soonest := int64(memStuckForever)
	for i := range int32(sh.entries.len()) {
		e := sh.entries.at(i)
		switch {
		case inKeys(e.id, keys):
		case !e.lockedAt(now):
			if victim < 0 || e.last < sh.entries.at(victim).last {
				victim = i
			}
		case e.ttl > 0:
			soonest = min(soonest, e.last+e.ttl)
		}
	}
	if victim >= 0 {
		sh.remove(victim)
		return true
	}
	sh.stuckUntil = soonest
	return false
}

func inKeys(id string, keys []Key) bool {
	for i := range keys {
		if keys[i].ID == id {
			return true
		}
	}
	return false
}

func dupBefore(keys []Key, i int) int {
	for j := range i {
		if keys[j].ID == keys[i].ID {
			return j
		}
	}
	return -1
}

// memLocked holds the shards of one call, locked in ascending order.
type memLocked struct {
	n   int
	idx [8]uint8 // the distinct shards, ascending
	of  [8]uint8 // the shard of each key
	big []int    // idx for calls of more than 8 keys
}

func (s *MemoryStore) shardOf(id string) uint64 {
	return maphash.String(s.seed, id) & s.mask
}

// shard returns the shard of keys[i].
func (s *MemoryStore) shard(l *memLocked, keys []Key, i int) *memShard {
	if l.big != nil {
		return &s.shards[s.shardOf(keys[i].ID)]
	}
	return &s.shards[l.of[i]]
}

func (s *MemoryStore) lockKeys(keys []Key, l *memLocked) {
	if len(keys) <= len(l.idx) {
		for i, k := range keys {
			x := uint8(s.shardOf(k.ID))
			l.of[i] = x
			j := l.n
			for j > 0 && l.idx[j-1] > x {
				j--
			}
			if j > 0 && l.idx[j-1] == x {
				continue
			}
			copy(l.idx[j+1:l.n+1], l.idx[j:l.n])
			l.idx[j] = x
			l.n++
		}
		for _, x := range l.idx[:l.n] {
			s.shards[x].mu.Lock()
		}
		return
	}
	for _, k := range keys {
		l.big = append(l.big, int(s.shardOf(k.ID)))
	}
	slices.Sort(l.big)
	l.big = slices.Compact(l.big)
	for _, x := range l.big {
		s.shards[x].mu.Lock()
	}
}

func (s *MemoryStore) unlockKeys(l *memLocked) {
	if l.big != nil {
		for _, x := range l.big {
			s.shards[x].mu.Unlock()
		}
		return
	}
	for _, x := range l.idx[:l.n] {
		s.shards[x].mu.Unlock()
	}
}

func checkOut(keys []Key, out []Counter) error {
	if len(out) < len(keys) {
		return fmt.Errorf("axes: memory store: out holds %d counters for %d keys", len(out), len(keys))
	}
	return nil
}

// Hit implements Store.
func (s *MemoryStore) Hit(ctx context.Context, keys []Key, now time.Time, p Policy, out []Counter) (bool, error) {
	if ctx.Err() != nil {
		return false, memErr(ctx)
	}
	if err := checkOut(keys, out); err != nil {
		return false, err
	}
	nowNS := now.UnixNano()
	if len(keys) == 1 {
		sh := &s.shards[s.shardOf(keys[0].ID)]
		sh.mu.Lock()
		c, i := sh.read(keys[0].ID, now, &p)
		locked := p.Limit > 0 && c.Failures >= p.Limit // read left it unexpired: p.Locked
		if !locked || p.ExtendDuringLockout {
			c.Failures++
			c.Last = time.Unix(0, nowNS).UTC()
			sh.write(&keys[0], i, c.Failures, nowNS, &p, nil)
		}
		sh.mu.Unlock()
		out[0] = c
		return locked, nil
	}
	var l memLocked
	s.lockKeys(keys, &l)
	defer s.unlockKeys(&l)
	locked := false
	for i := range keys {
		if dupBefore(keys, i) >= 0 {
			continue
		}
		sh := s.shard(&l, keys, i)
		c, _ := sh.read(keys[i].ID, now, &p)
		out[i] = c
		locked = locked || (p.Limit > 0 && c.Failures >= p.Limit) // unexpired: p.Locked
	}
	for i := range keys {
		if j := dupBefore(keys, i); j >= 0 {
			out[i] = out[j]
			continue
		}
		if locked && !p.ExtendDuringLockout {
			continue
		}
		sh := s.shard(&l, keys, i)
		idx, ok := sh.index[keys[i].ID]
		if !ok {
			idx = -1
		}
		out[i].Failures++
		out[i].Last = time.Unix(0, nowNS).UTC()
		sh.write(&keys[i], idx, out[i].Failures, nowNS, &p, keys)
	}
	return locked, nil
}

// Release implements Store.
func (s *MemoryStore) Release(ctx context.Context, keys []Key, now time.Time, p Policy) error {
	if ctx.Err() != nil {
		return memErr(ctx)
	}
	var l memLocked
	s.lockKeys(keys, &l)
	defer s.unlockKeys(&l)
	for i := range keys {
		if dupBefore(keys, i) >= 0 {
			continue
		}
		sh := s.shard(&l, keys, i)
		c, idx := sh.read(keys[i].ID, now, &p)
		if idx < 0 {
			continue
		}
		if c.Failures <= 1 {
			sh.remove(idx)
			continue
		}
		e := sh.entries.at(idx)
		e.failures--
		e.limit = clamp32(p.Limit)
		e.ttl = int64(p.coolOff(int(e.failures)))
		sh.stuckUntil = 0
	}
	return nil
}

// Peek implements Store. It never allocates.
func (s *MemoryStore) Peek(ctx context.Context, keys []Key, now time.Time, p Policy, out []Counter) error {
	if ctx.Err() != nil {
		return memErr(ctx)
	}
	if err := checkOut(keys, out); err != nil {
		return err
	}
	if len(keys) == 1 {
		sh := &s.shards[s.shardOf(keys[0].ID)]
		sh.mu.Lock()
		out[0], _ = sh.read(keys[0].ID, now, &p)
		sh.mu.Unlock()
		return nil
	}
	var l memLocked
	s.lockKeys(keys, &l)
	defer s.unlockKeys(&l)
	for i := range keys {
		out[i], _ = s.shard(&l, keys, i).read(keys[i].ID, now, &p)
	}
	return nil
}

// peekIDs is Peek for the engine's Status: the key IDs are ids[start:ends[0]],
// ids[ends[0]:ends[1]], ... (a buffer that may live on the caller's stack).
func (s *MemoryStore) peekIDs(ctx context.Context, ids []byte, start int, ends []int, now time.Time, p *Policy, out []Counter) error {
	if ctx.Err() != nil {
		return memErr(ctx)
	}
	if len(ends) == 1 {
		id := ids[start:ends[0]]
		sh := &s.shards[maphash.Bytes(s.seed, id)&s.mask]
		sh.mu.Lock()
		out[0] = sh.readBytes(id, now, p)
		sh.mu.Unlock()
		return nil
	}
	// Lock the distinct shards in ascending order, as lockKeys does.
	first := start
	var of [3]uint8
	var idx [3]uint8
	n := 0
	for i, end := range ends {
		x := uint8(maphash.Bytes(s.seed, ids[start:end]) & s.mask)
		start = end
		of[i] = x
		j := n
		for j > 0 && idx[j-1] > x {
			j--
		}
		if j > 0 && idx[j-1] == x {
			continue
		}
		copy(idx[j+1:n+1], idx[j:n])
		idx[j] = x
		n++
	}
	for _, x := range idx[:n] {
		s.shards[x].mu.Lock()
	}
	start = first
	for i, end := range ends {
		out[i] = s.shards[of[i]].readBytes(ids[start:end], now, p)
		start = end
	}
	for _, x := range idx[:n] {
		s.shards[x].mu.Unlock()
	}
	return nil
}

// Clear implements Store.
func (s *MemoryStore) Clear(ctx context.Context, keys []Key) error {
	if ctx.Err() != nil {
		return memErr(ctx)
	}
	var l memLocked
	s.lockKeys(keys, &l)
	defer s.unlockKeys(&l)
	for i := range keys {
		sh := s.shard(&l, keys, i)
		if idx, ok := sh.index[keys[i].ID]; ok {
			sh.remove(idx)
		}
	}
	return nil
}

// Reset implements Store. It returns how many attempt records it removed
// once the store has kept any (RecordFailure was called since it was
// created, as it is whenever an Engine uses it); before that, when it is
// used as a bare counter store, it returns how many counters it removed.
// Counters and records are removed in two steps, each atomic: a Hit between
// them is kept.
func (s *MemoryStore) Reset(ctx context.Context, f Filter) (int, error) {
	if ctx.Err() != nil {
		return 0, memErr(ctx)
	}
	counters := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for j := int32(sh.entries.len() - 1); j >= 0; j-- {
			if k, ok := parseKeyID(sh.entries.at(j).id); ok && k.Matches(f) {
				sh.remove(j)
				counters++
			}
		}
		sh.mu.Unlock()
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	n := s.records.resetAttempts(f)
	if !s.recorded {
		return counters, nil
	}
	return n, nil
}

// RecordFailure implements RecordStore. A new record starts with one
// failure and FirstAttempt set to rec.FirstAttempt, or rec.LastAttempt when
// that is zero. Failure log rows take rec.LastAttempt as their Time.
func (s *MemoryStore) RecordFailure(ctx context.Context, rec AttemptRecord, failureLog bool, lockedOut bool, perUser int) error {
	if ctx.Err() != nil {
		return memErr(ctx)
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.recorded = true
	s.records.upsertAttempt(rec, s.opts.MaxRecords)
	if failureLog {
		s.records.appendFailure(FailureLog{
			Username:  rec.Username,
			IP:        rec.IP,
			UserAgent: rec.UserAgent,
			Path:      rec.Path,
			Time:      rec.LastAttempt,
			LockedOut: lockedOut,
		}, perUser, s.opts.MaxLogs)
	}
	return nil
}

// RecordLogin implements RecordStore. The row's ID is assigned by the store.
func (s *MemoryStore) RecordLogin(ctx context.Context, log AccessLog) error {
	if ctx.Err() != nil {
		return memErr(ctx)
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.records.appendAccess(log, s.opts.MaxLogs)
	return nil
}

// RecordLogout implements RecordStore.
func (s *MemoryStore) RecordLogout(ctx context.Context, username, ip string, at time.Time) error {
	if ctx.Err() != nil {
		return memErr(ctx)
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	a := s.records.access[s.records.accessHead:]
	for i := len(a) - 1; i >= 0; i-- {
		l := &a[i]
		if l.Username == username && (ip == "" || l.IP == ip) && l.LogoutTime.IsZero() {
			l.LogoutTime = at
			break
		}
	}
	return nil
}

// Attempts implements RecordStore.
func (s *MemoryStore) Attempts(ctx context.Context, q ListQuery) ([]AttemptRecord, int, error) {
	if ctx.Err() != nil {
		return nil, 0, memErr(ctx)
	}
	search := strings.ToLower(q.Search)
	s.rmu.Lock()
	var rows []AttemptRecord
	for e := s.records.oldest; e != nil; e = e.newer {
		r := &e.rec
		if q.Filter.MatchesRecord(r.IP, r.Username) && MatchesSearch(search, r.IP, r.Username, r.UserAgent, r.Path) {
			rows = append(rows, *r)
		}
	}
	s.rmu.Unlock()
	slices.SortFunc(rows, attemptOrder(q.Sort, q.Asc))
	total := len(rows)
	return PageRows(rows, q), total, nil
}

// AccessLogs implements RecordStore.
func (s *MemoryStore) AccessLogs(ctx context.Context, q ListQuery) ([]AccessLog, int, error) {
	if ctx.Err() != nil {
		return nil, 0, memErr(ctx)
	}
	search := strings.ToLower(q.Search)
	s.rmu.Lock()
	var rows []AccessLog
	for _, l := range s.records.access[s.records.accessHead:] {
		if q.Filter.MatchesRecord(l.IP, l.Username) && MatchesSearch(search, l.IP, l.Username, l.UserAgent, l.Path) {
			rows = append(rows, l)
		}
	}
	s.rmu.Unlock()
	slices.SortFunc(rows, accessOrder(q.Sort, q.Asc))
	total := len(rows)
	return PageRows(rows, q), total, nil
}

// FailureLogs implements RecordStore.
func (s *MemoryStore) FailureLogs(ctx context.Context, q ListQuery) ([]FailureLog, int, error) {
	if ctx.Err() != nil {
		return nil, 0, memErr(ctx)
	}
	search := strings.ToLower(q.Search)
	s.rmu.Lock()
	var rows []FailureLog
	for _, r := range s.records.failures[s.records.failureHead:] {
		l := r.log
		if !r.dead && q.Filter.MatchesRecord(l.IP, l.Username) && MatchesSearch(search, l.IP, l.Username, l.UserAgent, l.Path) {
			rows = append(rows, l)
		}
	}
	s.rmu.Unlock()
	slices.SortFunc(rows, failureOrder(q.Sort, q.Asc))
	total := len(rows)
	return PageRows(rows, q), total, nil
}

// DeleteAccessLogs implements RecordStore.
func (s *MemoryStore) DeleteAccessLogs(ctx context.Context, before time.Time) (int, error) {
	if ctx.Err() != nil {
		return 0, memErr(ctx)
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return s.records.deleteAccess(before), nil
}

// DeleteFailureLogs implements RecordStore.
func (s *MemoryStore) DeleteFailureLogs(ctx context.Context, before time.Time) (int, error) {
	if ctx.Err() != nil {
		return 0, memErr(ctx)
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return s.records.deleteFailures(before), nil
}

// memRecords holds the records; MemoryStore.rmu guards it.
type memRecords struct {
	// attempts indexes the attempt records by the hash of their attemptID
	// (records whose IDs share a hash are chained by next): a map of
	// words is denser than one of three strings, and a record is removed
	// by its stored hash without reading its strings again.
	attempts map[uint64]*attemptEntry
	nAttempt int
	seed     maphash.Seed
	// oldest and newest end the attempt records' list, in (LastAttempt,
	// update order) order: the cap evicts the oldest.
	oldest, newest *attemptEntry

	access     []AccessLog // ID ascending; live from accessHead
	accessHead int
	accessID   int64

	failures    []failureRow // ID ascending; live from failureHead unless dead
	failureHead int
	failureLive int
	failureID   int64
	perUser     map[string]*idQueue // live failure log IDs of a username
}

type attemptID struct{ username, ip, userAgent string }

type attemptEntry struct {
	rec          AttemptRecord
	older, newer *attemptEntry
	hash         uint64
	next         *attemptEntry // the next record with the same hash
}

func (r *memRecords) attemptHash(username, ip, userAgent string) uint64 {
	return maphash.Comparable(r.seed, attemptID{username, ip, userAgent})
}

// findAttempt returns the record of the ID, or nil.
func (r *memRecords) findAttempt(h uint64, username, ip, userAgent string) *attemptEntry {
	for e := r.attempts[h]; e != nil; e = e.next {
		if e.rec.Username == username && e.rec.IP == ip && e.rec.UserAgent == userAgent {
			return e
		}
	}
	return nil
}

// dropAttempt removes e from the index and the list.
func (r *memRecords) dropAttempt(e *attemptEntry) {
	r.unlink(e)
	if head := r.attempts[e.hash]; head == e {
		if e.next == nil {
			delete(r.attempts, e.hash)
		} else {
			r.attempts[e.hash] = e.next
		}
	} else {
		for p := head; p != nil; p = p.next {
			if p.next == e {
				p.next = e.next
				break
			}
		}
	}
	e.next = nil
	r.nAttempt--
}

type failureRow struct {
	log  FailureLog
	dead bool
}

func (r *memRecords) init() {
	r.attempts = make(map[uint64]*attemptEntry)
	r.seed = maphash.MakeSeed()
	r.perUser = make(map[string]*idQueue)
}

func (r *memRecords) upsertAttempt(rec AttemptRecord, maxRecords int) {
	h := r.attemptHash(rec.Username, rec.IP, rec.UserAgent)
	if e := r.findAttempt(h, rec.Username, rec.IP, rec.UserAgent); e != nil {
		e.rec.Failures++
		e.rec.LastAttempt = rec.LastAttempt
		e.rec.Accept = rec.Accept
		e.rec.Path = rec.Path
		e.rec.GetData = rec.GetData
		e.rec.PostData = rec.PostData
		r.unlink(e)
		r.place(e)
		return
	}
	var e *attemptEntry
	for r.nAttempt >= maxRecords && r.oldest != nil {
		e = r.oldest // evicted; its memory is reused below
		r.dropAttempt(e)
	}
	if e == nil {
		e = new(attemptEntry)
	}
	rec.Failures = 1
	if rec.FirstAttempt.IsZero() {
		rec.FirstAttempt = rec.LastAttempt
	}
	*e = attemptEntry{rec: rec, hash: h, next: r.attempts[h]}
	r.attempts[h] = e
	r.nAttempt++
	r.place(e)
}

// place links e into the list by its LastAttempt, after every record not
// newer: at the newest end, since the engine's clock moves forward (a
// record written with an older time walks back to its place).
func (r *memRecords) place(e *attemptEntry) {
	at := r.newest
	for at != nil && at.rec.LastAttempt.After(e.rec.LastAttempt) {
		at = at.older
	}
	e.older = at
	if at == nil {
		e.newer, r.oldest = r.oldest, e
	} else {
		e.newer, at.newer = at.newer, e
	}
	if e.newer == nil {
		r.newest = e
	} else {
		e.newer.older = e
	}
}

func (r *memRecords) unlink(e *attemptEntry) {
	if e.older == nil {
		r.oldest = e.newer
	} else {
		e.older.newer = e.newer
	}
	if e.newer == nil {
		r.newest = e.older
	} else {
		e.newer.older = e.older
	}
	e.older, e.newer = nil, nil
}

func (r *memRecords) resetAttempts(f Filter) int {
	n := 0
	for e := r.oldest; e != nil; {
		next := e.newer
		if f.MatchesRecord(e.rec.IP, e.rec.Username) {
			r.dropAttempt(e)
			n++
		}
		e = next
	}
	return n
}

func (r *memRecords) appendAccess(l AccessLog, maxLogs int) {
	r.accessID++
	l.ID = r.accessID
	r.access = append(r.access, l)
	for len(r.access)-r.accessHead > maxLogs {
		r.access[r.accessHead] = AccessLog{}
		r.accessHead++
	}
	if r.accessHead > len(r.access)/2 && r.accessHead > memCompactMargin {
		r.access = slices.Delete(r.access, 0, r.accessHead)
		r.accessHead = 0
	}
}

func (r *memRecords) deleteAccess(before time.Time) int {
	live := r.access[r.accessHead:]
	kept := make([]AccessLog, 0, len(live))
	for _, l := range live {
		if !before.IsZero() && !l.LoginTime.Before(before) {
			kept = append(kept, l)
		}
	}
	r.access, r.accessHead = kept, 0
	return len(live) - len(kept)
}

func (r *memRecords) appendFailure(l FailureLog, perUser, maxLogs int) {
	r.failureID++
	l.ID = r.failureID
	r.failures = append(r.failures, failureRow{log: l})
	r.failureLive++
	q := r.perUser[l.Username]
	if q == nil {
		q = &idQueue{}
		r.perUser[l.Username] = q
	}
	q.push(l.ID)
	if perUser > 0 {
		for q.len() > perUser {
			r.killFailure(q.pop())
		}
	}
	for r.failureLive > maxLogs {
		row := &r.failures[r.failureHead]
		r.failureHead++
		if row.dead {
			continue
		}
		row.dead = true
		r.failureLive--
		if uq := r.perUser[row.log.Username]; uq != nil {
			uq.remove(row.log.ID)
			if uq.len() == 0 {
				delete(r.perUser, row.log.Username)
			}
		}
	}
	r.compactFailures()
}

// killFailure marks the row of id dead (its per-user queue already
// dropped it).
func (r *memRecords) killFailure(id int64) {
	live := r.failures[r.failureHead:]
	i, ok := slices.BinarySearchFunc(live, id, func(row failureRow, id int64) int { return cmp.Compare(row.log.ID, id) })
	if ok && !live[i].dead {
		live[i].dead = true
		live[i].log = FailureLog{ID: id}
		r.failureLive--
	}
}

// compactFailures drops the rows before failureHead and the dead ones when
// they outnumber the live ones.
func (r *memRecords) compactFailures() {
	n := len(r.failures)
	if n <= 2*r.failureLive+memCompactMargin {
		return
	}
	kept := make([]failureRow, 0, r.failureLive+memCompactMargin)
	for _, row := range r.failures[r.failureHead:] {
		if !row.dead {
			kept = append(kept, row)
		}
	}
	r.failures, r.failureHead = kept, 0
}

func (r *memRecords) deleteFailures(before time.Time) int {
	kept := make([]failureRow, 0, r.failureLive)
	n := 0
	for _, row := range r.failures[r.failureHead:] {
		if row.dead {
			continue
		}
		if before.IsZero() || row.log.Time.Before(before) {
			n++
			continue
		}
		kept = append(kept, row)
	}
	r.failures, r.failureHead, r.failureLive = kept, 0, len(kept)
	r.perUser = make(map[string]*idQueue)
	for _, row := range kept {
		q := r.perUser[row.log.Username]
		if q == nil {
			q = &idQueue{}
			r.perUser[row.log.Username] = q
		}
		q.push(row.log.ID)
	}
	return n
}

// idQueue is a FIFO of ascending IDs.
type idQueue struct {
	ids  []int64
	head int
}

func (q *idQueue) len() int { return len(q.ids) - q.head }

func (q *idQueue) push(id int64) { q.ids = append(q.ids, id) }

func (q *idQueue) pop() int64 {
	id := q.ids[q.head]
	q.head++
	if q.head > len(q.ids)/2 && q.head > memCompactMargin {
		q.ids = slices.Delete(q.ids, 0, q.head)
		q.head = 0
	}
	return id
}

func (q *idQueue) remove(id int64) {
	if q.len() > 0 && q.ids[q.head] == id {
		q.pop()
		return
	}
	live := q.ids[q.head:]
	if i, ok := slices.BinarySearch(live, id); ok {
		q.ids = slices.Delete(q.ids, q.head+i, q.head+i+1)
	}
}

// direct orders by primary, then by tie, descending unless asc; tie breaks
// in the same direction so that paging is stable.
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

func attemptOrder(sort string, asc bool) func(a, b AttemptRecord) int {
	tie := func(a, b AttemptRecord) int {
		return cmp.Or(a.LastAttempt.Compare(b.LastAttempt), cmp.Compare(a.Username, b.Username),
			cmp.Compare(a.IP, b.IP), cmp.Compare(a.UserAgent, b.UserAgent))
	}
	var primary func(a, b AttemptRecord) int
	switch sort {
	case "username":
		primary = func(a, b AttemptRecord) int { return cmp.Compare(a.Username, b.Username) }
	case "ip":
		primary = func(a, b AttemptRecord) int { return cmp.Compare(a.IP, b.IP) }
	case "user_agent":
		primary = func(a, b AttemptRecord) int { return cmp.Compare(a.UserAgent, b.UserAgent) }
	case "path":
		primary = func(a, b AttemptRecord) int { return cmp.Compare(a.Path, b.Path) }
	case "failures":
		primary = func(a, b AttemptRecord) int { return cmp.Compare(a.Failures, b.Failures) }
	case "first_attempt":
		primary = func(a, b AttemptRecord) int { return a.FirstAttempt.Compare(b.FirstAttempt) }
	default:
		primary = tie
	}
	return direct(asc, primary, tie)
}

func accessOrder(sort string, asc bool) func(a, b AccessLog) int {
	tie := func(a, b AccessLog) int { return cmp.Compare(a.ID, b.ID) }
	var primary func(a, b AccessLog) int
	switch sort {
	case "username":
		primary = func(a, b AccessLog) int { return cmp.Compare(a.Username, b.Username) }
	case "ip":
		primary = func(a, b AccessLog) int { return cmp.Compare(a.IP, b.IP) }
	case "user_agent":
		primary = func(a, b AccessLog) int { return cmp.Compare(a.UserAgent, b.UserAgent) }
	case "path":
		primary = func(a, b AccessLog) int { return cmp.Compare(a.Path, b.Path) }
	case "logout_time":
		primary = func(a, b AccessLog) int { return a.LogoutTime.Compare(b.LogoutTime) }
	default:
		primary = func(a, b AccessLog) int { return a.LoginTime.Compare(b.LoginTime) }
	}
	return direct(asc, primary, tie)
}

func failureOrder(sort string, asc bool) func(a, b FailureLog) int {
	tie := func(a, b FailureLog) int { return cmp.Compare(a.ID, b.ID) }
	var primary func(a, b FailureLog) int
	switch sort {
	case "username":
		primary = func(a, b FailureLog) int { return cmp.Compare(a.Username, b.Username) }
	case "ip":
		primary = func(a, b FailureLog) int { return cmp.Compare(a.IP, b.IP) }
	case "user_agent":
		primary = func(a, b FailureLog) int { return cmp.Compare(a.UserAgent, b.UserAgent) }
	case "path":
		primary = func(a, b FailureLog) int { return cmp.Compare(a.Path, b.Path) }
	default:
		primary = func(a, b FailureLog) int { return a.Time.Compare(b.Time) }
	}
	return direct(asc, primary, tie)
}
