// Package redisstore keeps axes' lockout counters, attempt records and logs
// in Redis, so that several app instances share one lockout state (docs/design.md,
// G8). It works with a single server, a Sentinel failover client and a
// Redis Cluster client (redis.UniversalClient).
//
// Every operation is one Lua script, run once (EVALSHA, with EVAL when the
// server has not cached it): Hit, Peek, Release, Clear, Reset, each
// record operation and ReleaseAndRecordLogin (the end of a successful
// login: Release and RecordLogin together) are one atomic step and one
// round trip.
//
// # Keys
//
// Every key starts with Options.Prefix followed by the hash tag {axes}
// (base = Prefix + "{axes}:"), so that all keys of a store hash to one
// Redis Cluster slot and a script may touch any of them:
//
//	base c:<Key.ID>     hash: a counter (f failures, s and n the last failure's
//	                    seconds and nanoseconds, x until when its TTL keeps it)
//	base C              zset: all counters, scored by when to check them (ms)
//	base i:<ip key>     zset: counters of keys with that IP and another parameter
//	base u:<username>   zset: counters of keys with that username and another
//	                    parameter (a key of the IP or the username alone is in
//	                    no index but C: Reset computes its counter's name)
//	base r:<record ID>  hash: an attempt record
//	base R              zset: all attempt records, scored by last attempt (µs)
//	base ri:<ip>        zset: records of that IP; base ru:<username> likewise
//	base rec            string: set once records are kept (see Reset)
//	base a:<id>         hash: an access log row; base A (zset by login time),
//	                    base au:<username> (zset by ID), base A#: the ID sequence
//	base f:<id>         hash: a failure log row; base F, base fu:<username>,
//	                    base F# likewise
//
// The single hash tag gives up spreading one store's keys across cluster
// shards: a cluster holds them on one node. That is the price of keeping
// one attempt's keys (its IP, its username, their combination) in one
// atomic script; lockout state is small, and several stores with their own
// Prefix containing their own hash tag (such as "app1:{app1}:") spread.
//
// # Expiry
//
// Whether a counter counts is decided in the scripts from core's time,
// passed as an argument, never from Redis TIME. Redis TTLs only collect
// garbage: a counter lives at least its cool-off plus a minute after its
// last failure, and at most a minute more (a Hit refreshes the TTL only
// when it would not last that long, and then a minute beyond, so that the
// failures of the next minute skip the PEXPIRE); without a cool-off, a
// locked counter has no TTL (it stays until reset) and an unlocked one
// lives Options.CounterTTL (plus up to two minutes). Records and logs are
// capped (MaxAttempts, MaxLogs, oldest removed first) and expire after
// RecordTTL and LogTTL.
//
// # Bounded indexes
//
// A counter enters C (and, when its key combines parameters, the IP and
// username indexes) when a Hit creates it, and leaves them when it is
// released to zero, cleared or reset, or, once its TTL has run out, when
// a later Hit that creates a counter collects it: such a Hit looks at up
// to 16 entries of C that are due (an entry is due a minute after the TTL
// its counter had when created or last looked at would end; one kept
// until reset, CounterTTL after), removes those whose counter is gone
// (PTTL) and schedules the others again from their TTL. Hits on counters
// that exist touch no index. So the indexes grow only by Hits that create
// counters, each of which adds one entry per new counter and looks at up
// to 16 due entries: under a spray of new keys they hold the live
// counters plus the dead ones not yet collected, which a Hit collects up
// to 16 at a time (a live counter is looked at no more than once per TTL).
// The index keys have no TTL; Redis deletes one when its last entry
// leaves. Memory left by a spray stays until Hits create counters again.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/internal/redact"
	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	DefaultPrefix      = "axes:"
	DefaultCounterTTL  = 30 * 24 * time.Hour
	DefaultRecordTTL   = 30 * 24 * time.Hour
	DefaultLogTTL      = 90 * 24 * time.Hour
	DefaultMaxAttempts = 100_000
	DefaultMaxLogs     = 100_000
)

// gcMargin is added to a counter's cool-off for its TTL, to absorb clock
// skew between the app instances and the server.
const gcMargin = time.Minute

// Options configure a Store. Zero fields take their defaults.
type Options struct {
	// Prefix starts every key. Default "axes:". It may carry its own hash
	// tag ("app:{app}:"); it must not make the hash tag empty ("{}").
	Prefix string
	// CounterTTL is how long a counter without a cool-off (CoolOff 0:
	// counted until reset) is kept after its last failure while it is not
	// locked. Locked ones are kept until reset. Default 30 days; negative
	// keeps them all until reset, unbounded.
	CounterTTL time.Duration
	// RecordTTL is how long an attempt record is kept after its last
	// failure. Default 30 days; negative: no TTL (MaxAttempts still caps).
	RecordTTL time.Duration
	// LogTTL is how long access and failure log rows are kept. Default 90
	// days; negative: no TTL (MaxLogs still caps).
	LogTTL time.Duration
	// MaxAttempts caps the attempt records, oldest last attempt removed
	// first. Default 100_000.
	MaxAttempts int
	// MaxLogs caps the access log rows and, separately, the failure log
	// rows, oldest removed first. Default 100_000 each.
	MaxLogs int
}

// Store keeps counters, records and logs in Redis. It implements
// core.Store, core.RecordStore and core.LoginStore and is safe for concurrent use, by many
// goroutines and by many processes sharing the server.
type Store struct {
	rdb  redis.UniversalClient
	own  bool
	opts Options
	base string

	kCounters, kRecords, kRecorded string
	kAccess, kAccessSeq            string
	kFailures, kFailureSeq         string

	// arguments that do not depend on the call: of the counter scripts,
	// and the TTLs of records and logs (ttlMS)
	idleMS, marginMS  int64
	recordTTL, logTTL string
}

var (
	_ core.Store       = (*Store)(nil)
	_ core.RecordStore = (*Store)(nil)
	_ core.LoginStore  = (*Store)(nil)
)

// New returns a store on the caller's client, which the store never
// closes (Close does nothing then). It does not contact the server.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("axes: redisstore: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	base := opts.Prefix + "{axes}:"
	if !tagInside(base) {
		return nil, fmt.Errorf("axes: redisstore: Prefix %q makes an empty hash tag", opts.Prefix)
	}
	if opts.CounterTTL == 0 {
		opts.CounterTTL = DefaultCounterTTL
	}
	if opts.RecordTTL == 0 {
		opts.RecordTTL = DefaultRecordTTL
	}
	if opts.LogTTL == 0 {
		opts.LogTTL = DefaultLogTTL
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxLogs <= 0 {
		opts.MaxLogs = DefaultMaxLogs
	}
	s := &Store{
		rdb:         rdb,
		opts:        opts,
		base:        base,
		kCounters:   base + "C",
		kRecords:    base + "R",
		kRecorded:   base + "rec",
		kAccess:     base + "A",
		kAccessSeq:  base + "A#",
		kFailures:   base + "F",
		kFailureSeq: base + "F#",
		marginMS:    gcMargin.Milliseconds(),
		recordTTL:   ttlMS(opts.RecordTTL),
		logTTL:      ttlMS(opts.LogTTL),
	}
	if opts.CounterTTL > 0 {
		s.idleMS = max(opts.CounterTTL.Milliseconds(), 1)
	}
	return s, nil
}

// tagInside reports whether the Redis Cluster hash tag of any key that
// starts with base lies inside base and is not empty: then every key of the
// store hashes to the same slot.
func tagInside(base string) bool {
	i := strings.IndexByte(base, '{')
	if i < 0 {
		return false
	}
	j := strings.IndexByte(base[i+1:], '}')
	return j > 0
}

// Open connects to the Redis server of a redis:// or rediss:// URL (as
// redis.ParseURL reads it: redis://user:password@host:6379/0?dial_timeout=3s).
// The store owns that client: Close closes it. Errors never show the
// password.
func Open(rawURL string, opts Options) (*Store, error) {
	s, err := open(rawURL, opts)
	if err != nil {
		return nil, redact.Error(err, rawURL)
	}
	return s, nil
}

func open(rawURL string, opts Options) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("axes: redisstore: bad URL: cannot parse it (want redis://host:port/db or rediss://…)")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("axes: redisstore: bad URL %s: scheme %q (want redis or rediss)", redact.String(rawURL), u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("axes: redisstore: bad URL %s: no host", redact.String(rawURL))
	}
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("axes: redisstore: bad URL %s: %s", redact.String(rawURL), err)
	}
	rdb := redis.NewClient(ro)
	s, err := New(rdb, opts)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// Close closes the client when Open created it; a client given to New is
// left open.
func (s *Store) Close() error {
	if !s.own {
		return nil
	}
	return s.rdb.Close()
}

// Client returns the store's Redis client.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

func wrap(op string, err error) error {
	return fmt.Errorf("axes: redisstore: %s: %w", op, err)
}

// counterKeys returns KEYS of the hit, release and clear scripts: the
// all-counters index, then per key its counter, IP index and username
// index (the counter again when the key has no such field or has one
// parameter only: Reset computes the names of those counters); with room
// for extra more.
func (s *Store) counterKeys(keys []core.Key, extra int) []string {
	ks := make([]string, 1, 1+3*len(keys)+extra)
	ks[0] = s.kCounters
	for i := range keys {
		k := &keys[i]
		c := s.base + "c:" + k.ID
		xi, xu := c, c
		if k.Params.Has(core.ParamIPAddress) && k.Params != core.ParamIPAddress {
			xi = s.base + "i:" + k.IP
		}
		if k.Params.Has(core.ParamUsername) && k.Params != core.ParamUsername {
			xu = s.base + "u:" + k.Username
		}
		ks = append(ks, c, xi, xu)
	}
	return ks
}

// peekArgs returns the ARGV head that luaPolicy reads, with room for
// extra more.
func peekArgs(now time.Time, p *core.Policy, extra int) []any {
	args := make([]any, 0, 5+3*len(p.Tiers)+extra)
	cs, cn := split(p.CoolOff)
	args = append(args, now.Unix(), int64(now.Nanosecond()), cs, cn, int64(len(p.Tiers)))
	for _, t := range p.Tiers {
		ts, tn := split(t.CoolOff)
		args = append(args, int64(t.Failures), ts, tn)
	}
	return args
}

// policyArgs returns the ARGV head that luaPolicy and luaCounters read,
// with room for extra more.
func (s *Store) policyArgs(now time.Time, p *core.Policy, extra int) []any {
	extend := "0"
	if p.ExtendDuringLockout {
		extend = "1"
	}
	return append(peekArgs(now, p, 4+extra), int64(p.Limit), extend, s.idleMS, s.marginMS)
}

// split returns a cool-off as seconds and nanoseconds; none (<= 0) is 0, 0.
func split(d time.Duration) (int64, int64) {
	if d <= 0 {
		return 0, 0
	}
	return int64(d / time.Second), int64(d % time.Second)
}

func checkOut(keys []core.Key, out []core.Counter) error {
	if len(out) < len(keys) {
		return fmt.Errorf("axes: redisstore: out holds %d counters for %d keys", len(out), len(keys))
	}
	return nil
}

// readCounters fills out from a reply of failures, seconds, nanoseconds
// triples starting at reply[from].
func readCounters(reply []any, from int, out []core.Counter) error {
	if len(reply) < from+3*len(out) {
		return fmt.Errorf("short reply: %d values for %d counters", len(reply), len(out))
	}
	for i := range out {
		f, _ := reply[from+3*i].(int64)
		if f <= 0 {
			out[i] = core.Counter{}
			continue
		}
		sec, _ := reply[from+3*i+1].(int64)
		nsec, _ := reply[from+3*i+2].(int64)
		out[i] = core.Counter{Failures: int(f), Last: time.Unix(sec, nsec).UTC()}
	}
	return nil
}

// Hit implements core.Store: one round trip.
func (s *Store) Hit(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, out []core.Counter) (bool, error) {
	if err := checkOut(keys, out); err != nil {
		return false, err
	}
	if len(keys) == 0 {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, wrap("hit", err)
	}
	reply, err := hitScript.Run(ctx, s.rdb, s.counterKeys(keys, 0), s.policyArgs(now, &p, 0)...).Slice()
	if err != nil {
		return false, wrap("hit", err)
	}
	if err := readCounters(reply, 1, out[:len(keys)]); err != nil {
		return false, wrap("hit", err)
	}
	locked, _ := reply[0].(int64)
	return locked == 1, nil
}

// Release implements core.Store: one round trip.
func (s *Store) Release(ctx context.Context, keys []core.Key, now time.Time, p core.Policy) error {
	if len(keys) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return wrap("release", err)
	}
	err := releaseScript.Run(ctx, s.rdb, s.counterKeys(keys, 0), s.policyArgs(now, &p, 0)...).Err()
	if err != nil {
		return wrap("release", err)
	}
	return nil
}

// Peek implements core.Store: one round trip.
func (s *Store) Peek(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, out []core.Counter) error {
	if err := checkOut(keys, out); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return wrap("peek", err)
	}
	ks := make([]string, len(keys))
	for i := range keys {
		ks[i] = s.base + "c:" + keys[i].ID
	}
	reply, err := peekScript.Run(ctx, s.rdb, ks, peekArgs(now, &p, 0)...).Slice()
	if err != nil {
		return wrap("peek", err)
	}
	if err := readCounters(reply, 0, out[:len(keys)]); err != nil {
		return wrap("peek", err)
	}
	return nil
}

// Clear implements core.Store: one round trip.
func (s *Store) Clear(ctx context.Context, keys []core.Key) error {
	if len(keys) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return wrap("clear", err)
	}
	if err := clearScript.Run(ctx, s.rdb, s.counterKeys(keys, 0)).Err(); err != nil {
		return wrap("clear", err)
	}
	return nil
}

// Reset implements core.Store: one round trip that deletes the matching
// counters and attempt records together. It returns how many attempt
// records it removed once the store has kept any (RecordFailure was called,
// as it is whenever an Engine uses it); before that, used as a bare counter
// store, how many counters it removed.
func (s *Store) Reset(ctx context.Context, f core.Filter) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrap("reset", err)
	}
	keys := []string{s.kCounters, s.kCounters, s.kCounters, s.kRecords, s.kRecords, s.kRecords, s.kRecorded, s.kCounters, s.kCounters}
	ipKey := f.IPKey()
	if ipKey != "" {
		keys[1] = s.base + "i:" + ipKey
		keys[7] = s.base + "c:" + core.NewKey(core.ParamIPAddress, ipKey, "", "").ID
	}
	if f.Username != "" {
		keys[2] = s.base + "u:" + f.Username
		keys[5] = s.base + "ru:" + f.Username
		keys[8] = s.base + "c:" + core.NewKey(core.ParamUsername, "", f.Username, "").ID
	}
	if f.IP != "" {
		keys[4] = s.base + "ri:" + f.IP
	}
	reply, err := resetScript.Run(ctx, s.rdb, keys,
		filterMode(ipKey != "", f.Username != "", f.Either),
		recordMode(f)).Int64Slice()
	if err != nil {
		return 0, wrap("reset", err)
	}
	if len(reply) != 3 {
		return 0, wrap("reset", fmt.Errorf("reply of %d values, want 3", len(reply)))
	}
	if reply[2] == 1 {
		return int(reply[1]), nil
	}
	return int(reply[0]), nil
}

// filterMode names how the reset script selects: as Key.Matches and
// Filter.MatchesRecord do.
func filterMode(ip, user, either bool) string {
	switch {
	case !ip && !user:
		return "all"
	case ip && user && either:
		return "or"
	case ip && user:
		return "and"
	case ip:
		return "ip"
	default:
		return "user"
	}
}

// recordMode is filterMode for records (core.Filter.MatchesRecord): they
// compare IP exactly, so the IP side of a filter with only IPGroup matches
// no record; it is never left out, which would widen the filter.
func recordMode(f core.Filter) string {
	mode := filterMode(f.IP != "" || f.IPGroup != "", f.Username != "", f.Either)
	if f.IP != "" || f.IPGroup == "" {
		return mode
	}
	switch mode {
	case "or":
		return "user"
	case "ip", "and":
		return "none"
	}
	return mode
}

// fmtTime stores a time exactly: "<unix seconds>.<nine digits>", "" for
// the zero time.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	b := make([]byte, 0, 24)
	b = strconv.AppendInt(b, t.Unix(), 10)
	b = append(b, '.')
	ns := strconv.Itoa(t.Nanosecond())
	b = append(b, "000000000"[len(ns):]...)
	b = append(b, ns...)
	return string(b)
}

func parseTime(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	sec, nsec, _ := strings.Cut(v, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	n, err2 := strconv.ParseInt(nsec, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}
	}
	return time.Unix(s, n).UTC()
}

// micros is a zset score of t.
func micros(t time.Time) string {
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// ttlMS is a TTL argument: "0" for none.
func ttlMS(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(max((d+gcMargin).Milliseconds(), 1), 10)
}

// cutoff is the score under which rows older than d before now go; "" for
// none.
func cutoff(now time.Time, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return micros(now.Add(-d))
}
