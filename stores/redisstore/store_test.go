package redisstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/core/storetest"
	"github.com/goaxes/axes/internal/leakcheck"
	"github.com/goaxes/axes/stores/redisstore"
)

// Redis Cluster: the tests run against one server (AXES_TEST_REDIS_URL);
// no cluster is started. The store keeps every key of a store under one
// hash tag, and TestKeysShareOneSlot checks that every key a store writes
// hashes to the same cluster slot, which is what lets a ClusterClient run
// its scripts.

// redisURL returns the test server's URL, skipping the test when there is
// none unless AXES_REQUIRE_SERVICES=1 (make test), which fails it instead.
func redisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("AXES_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
			tb.Fatal("AXES_TEST_REDIS_URL is not set and AXES_REQUIRE_SERVICES=1: Redis is required")
		}
		tb.Skip("AXES_TEST_REDIS_URL is not set: no Redis to test against")
	}
	return u
}

// newClient returns a client of the test server, closed at the end of tb.
func newClient(tb testing.TB) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(redisURL(tb))
	require.NoError(tb, err, "ParseURL(AXES_TEST_REDIS_URL)")
	opts.PoolSize = 64
	rdb := redis.NewClient(opts)
	tb.Cleanup(func() { _ = rdb.Close() })
	require.NoError(tb, rdb.Ping(context.Background()).Err(), "PING the test Redis")
	return rdb
}

// randomPrefix returns a prefix no other store uses; its keys are deleted
// at the end of tb.
func randomPrefix(tb testing.TB, rdb *redis.Client) string {
	tb.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "axestest:" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() { deleteKeys(rdb, prefix) })
	return prefix
}

func deleteKeys(rdb *redis.Client, prefix string) {
	if keys, _ := scanKeys(rdb, prefix+"*"); len(keys) > 0 {
		rdb.Del(context.Background(), keys...)
	}
}

// scanKeys returns the keys that match pattern.
func scanKeys(rdb *redis.Client, pattern string) ([]string, error) {
	ctx := context.Background()
	var keys []string
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

func newStore(tb testing.TB, rdb *redis.Client, opts redisstore.Options) *redisstore.Store {
	tb.Helper()
	if opts.Prefix == "" {
		opts.Prefix = randomPrefix(tb, rdb)
	}
	s, err := redisstore.New(rdb, opts)
	require.NoError(tb, err, "New")
	return s
}

func TestConformance(t *testing.T) {
	rdb := newClient(t)
	storetest.Run(t, func(t *testing.T) core.Store {
		return newStore(t, rdb, redisstore.Options{})
	})
}

// TestTwoClients: two app instances (two clients, two stores, one server)
// share one lockout: of 100 parallel attempts with limit 5, exactly 5 are
// let through (docs/design.md G1, G8).
func TestTwoClients(t *testing.T) {
	a, b := newClient(t), newClient(t)
	prefix := randomPrefix(t, a)
	sa := newStore(t, a, redisstore.Options{Prefix: prefix})
	sb := newStore(t, b, redisstore.Options{Prefix: prefix})
	keys := []core.Key{
		core.NewKey(core.ParamIPAddress, "192.0.2.1", "", ""),
		core.NewKey(core.ParamUsername, "", "alice", ""),
		core.NewKey(core.ParamIPAddress|core.ParamUsername, "192.0.2.1", "alice", ""),
	}
	p := core.Policy{Limit: 5, CoolOff: time.Hour, ExtendDuringLockout: true}
	now := time.Now()
	var (
		allowed atomic.Int32
		wg      sync.WaitGroup
		start   = make(chan struct{})
		errs    = make(chan error, 100)
	)
	for i := range 100 {
		s := sa
		if i%2 == 1 {
			s = sb
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]core.Counter, len(keys))
			<-start
			locked, err := s.Hit(context.Background(), keys, now, p, out)
			if err != nil {
				errs <- err
				return
			}
			if !locked {
				allowed.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "Hit")
	}
	assert.Equal(t, int32(5), allowed.Load(), "attempts let through across two clients: got %d, want 5", allowed.Load())
	out := make([]core.Counter, len(keys))
	require.NoError(t, sb.Peek(context.Background(), keys, now, p, out))
	for i, c := range out {
		assert.Equal(t, 100, c.Failures, "key %d after 100 attempts counted during the lockout: got %d, want 100", i, c.Failures)
	}
}

// evalStats returns the calls of EVALSHA and EVAL the server has run.
func evalStats(t *testing.T, rdb *redis.Client) (evalsha, eval int64) {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err, "INFO commandstats")
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "cmdstat_evalsha" && name != "cmdstat_eval") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, err := strconv.ParseInt(calls, 10, 64)
		require.NoError(t, err, "INFO line %q", line)
		if name == "cmdstat_evalsha" {
			evalsha = n
		} else {
			eval = n
		}
	}
	return evalsha, eval
}

// tripHook records the commands the client sends: one entry per round
// trip, the command's name (a pipeline's names joined by "+").
type tripHook struct {
	mu    sync.Mutex
	trips []string
}

func (h *tripHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd.Name())
		return next(ctx, cmd)
	}
}
func (h *tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		h.add(strings.Join(names, "+"))
		return next(ctx, cmds)
	}
}

func (h *tripHook) add(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.trips = append(h.trips, name)
}

// take returns the round trips since the last take.
func (h *tripHook) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.trips
	h.trips = nil
	return t
}

// TestOneRoundTrip: a Hit, Peek, Release, ReleaseAndRecordLogin and Clear
// of a three-key attempt each send one command, EVALSHA, once the script
// is cached. The client side counts what it sends; INFO commandstats
// confirms on the server (a server shared with other test processes may
// see their calls too, so a few tries are allowed before the server count
// must be exactly one).
func TestOneRoundTrip(t *testing.T) {
	rdb := newClient(t)
	hook := &tripHook{}
	rdb.AddHook(hook)
	s := newStore(t, rdb, redisstore.Options{})
	ctx := context.Background()
	keys := []core.Key{
		core.NewKey(core.ParamIPAddress, "192.0.2.1", "", ""),
		core.NewKey(core.ParamUsername, "", "alice", ""),
		core.NewKey(core.ParamIPAddress|core.ParamUsername, "192.0.2.1", "alice", ""),
	}
	p := core.Policy{Limit: 1000, CoolOff: time.Hour}
	out := make([]core.Counter, len(keys))
	now := time.Now()
	ops := []struct {
		name string
		call func() error
	}{
		{"Hit", func() error { _, err := s.Hit(ctx, keys, now, p, out); return err }},
		{"Peek", func() error { return s.Peek(ctx, keys, now, p, out) }},
		{"Release", func() error { return s.Release(ctx, keys, now, p) }},
		{"ReleaseAndRecordLogin", func() error {
			return s.ReleaseAndRecordLogin(ctx, keys, now, p, core.AccessLog{Username: "alice", IP: "192.0.2.1", LoginTime: now})
		}},
		{"Clear", func() error { return s.Clear(ctx, keys) }},
	}
	// Warm-up: load every script into the server's cache.
	for _, op := range ops {
		require.NoError(t, op.call(), "%s (warm-up)", op.name)
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			exact := false
			for try := 0; try < 5 && !exact; try++ {
				sha0, eval0 := evalStats(t, rdb)
				hook.take()
				require.NoError(t, op.call(), op.name)
				trips := hook.take()
				sha1, eval1 := evalStats(t, rdb)
				require.Equal(t, []string{"evalsha"}, trips, "%s: round trips: got %v, want one EVALSHA", op.name, trips)
				assert.Equal(t, int64(0), eval1-eval0, "%s: got %d EVAL (script not cached?), want 0", op.name, eval1-eval0)
				exact = sha1-sha0 == 1
				require.GreaterOrEqual(t, sha1-sha0, int64(1), "%s: got %d EVALSHA on the server, want 1", op.name, sha1-sha0)
			}
			assert.True(t, exact, "%s: the server never counted exactly one EVALSHA in 5 tries", op.name)
		})
	}
}

// TestKeysShareOneSlot: every key a store writes, for counters, records and
// logs, hashes to one Redis Cluster slot.
func TestKeysShareOneSlot(t *testing.T) {
	rdb := newClient(t)
	prefix := randomPrefix(t, rdb)
	s := newStore(t, rdb, redisstore.Options{Prefix: prefix})
	ctx := context.Background()
	now := time.Now()
	keys := []core.Key{
		core.NewKey(core.ParamIPAddress, "192.0.2.1", "", ""),
		core.NewKey(core.ParamUsername, "", "al{ice}", ""),
		core.NewKey(core.ParamIPAddress|core.ParamUsername|core.ParamUserAgent, "192.0.2.1", "}bob{", "curl{x}"),
	}
	out := make([]core.Counter, len(keys))
	_, err := s.Hit(ctx, keys, now, core.Policy{Limit: 3, CoolOff: time.Hour}, out)
	require.NoError(t, err)
	require.NoError(t, s.RecordFailure(ctx, core.AttemptRecord{Username: "{x}", IP: "192.0.2.1", LastAttempt: now}, true, false, 5))
	require.NoError(t, s.RecordLogin(ctx, core.AccessLog{Username: "{y}", IP: "192.0.2.1", LoginTime: now}))

	names, err := scanKeys(rdb, prefix+"*")
	require.NoError(t, err)
	require.Greater(t, len(names), 10, "keys written: got %v", names)
	slots := map[int][]string{}
	for _, k := range names {
		slots[keySlot(k)] = append(slots[keySlot(k)], k)
	}
	assert.Len(t, slots, 1, "slots of the store's keys: got %v, want one", slots)
	// The slot function agrees with Redis Cluster's specification.
	assert.Equal(t, 12739, keySlot("123456789"), "keySlot(123456789)")
	assert.Equal(t, keySlot("user1000"), keySlot("{user1000}.following"), "hash tag")
	assert.Equal(t, keySlot("foo{}{bar}"), crcSlot("foo{}{bar}"), "empty hash tag: whole key")
}

// keySlot is Redis Cluster's HASH_SLOT: CRC16 (XMODEM) of the key's hash
// tag, or of the key without one, modulo 16384.
func keySlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	return crcSlot(key)
}

func crcSlot(key string) int {
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc % 16384)
}

// TestCounterTTL: TTLs are garbage collection only. A counter with a
// cool-off is kept its cool-off plus a minute after its last failure, and
// a minute more so that the failures of the next minute need not refresh
// the TTL; a locked counter without cool-off has no TTL; an unlocked one
// without cool-off lives CounterTTL (plus the minute).
func TestCounterTTL(t *testing.T) {
	rdb := newClient(t)
	prefix := randomPrefix(t, rdb)
	s := newStore(t, rdb, redisstore.Options{Prefix: prefix, CounterTTL: time.Hour})
	ctx := context.Background()
	now := time.Now()
	k := core.NewKey(core.ParamIPAddress, "192.0.2.9", "", "")
	counter := prefix + "{axes}:c:" + k.ID
	out := make([]core.Counter, 1)
	ttl := func() time.Duration {
		d, err := rdb.PTTL(ctx, counter).Result()
		require.NoError(t, err)
		return d
	}
	// until is where the TTL set last ends, on core's clock.
	until := func() int64 {
		x, err := rdb.HGet(ctx, counter, "x").Int64()
		require.NoError(t, err)
		return x
	}
	p := core.Policy{Limit: 100, CoolOff: 10 * time.Minute}

	_, err := s.Hit(ctx, []core.Key{k}, now, p, out)
	require.NoError(t, err)
	assert.InDelta(t, float64(12*time.Minute), float64(ttl()), float64(2*time.Second), "TTL with a 10m cool-off: got %v, want 12m", ttl())
	assert.Equal(t, now.Add(12*time.Minute).UnixMilli(), until(), "end of the TTL after the first failure")
	// 30s later the TTL still covers the cool-off and a minute: unchanged.
	_, err = s.Hit(ctx, []core.Key{k}, now.Add(30*time.Second), p, out)
	require.NoError(t, err)
	assert.Equal(t, now.Add(12*time.Minute).UnixMilli(), until(), "end of the TTL after a failure 30s later: want it unchanged")
	// 90s later it would not: refreshed to 12 minutes from then.
	_, err = s.Hit(ctx, []core.Key{k}, now.Add(90*time.Second), p, out)
	require.NoError(t, err)
	assert.Equal(t, now.Add(90*time.Second+12*time.Minute).UnixMilli(), until(), "end of the TTL after a failure 90s later")
	assert.InDelta(t, float64(12*time.Minute), float64(ttl()), float64(2*time.Second), "TTL after the refresh: got %v, want 12m", ttl())
	assert.Equal(t, 3, out[0].Failures, "failures after three Hits")

	require.NoError(t, s.Clear(ctx, []core.Key{k}))
	_, err = s.Hit(ctx, []core.Key{k}, now, core.Policy{Limit: 2}, out)
	require.NoError(t, err)
	assert.InDelta(t, float64(time.Hour+time.Minute), float64(ttl()), float64(2*time.Second), "TTL unlocked without cool-off: got %v, want CounterTTL 1h and a minute", ttl())
	_, err = s.Hit(ctx, []core.Key{k}, now, core.Policy{Limit: 2}, out)
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), ttl(), "TTL locked without cool-off: got %v, want none (-1)", ttl())
	// A cool-off again (a policy that changed): the counter gets a TTL.
	_, err = s.Hit(ctx, []core.Key{k}, now, core.Policy{Limit: 100, CoolOff: 10 * time.Minute}, out)
	require.NoError(t, err)
	assert.InDelta(t, float64(12*time.Minute), float64(ttl()), float64(2*time.Second), "TTL after a cool-off came back: got %v, want 12m", ttl())
}

// TestBoundedIndexes: the index entries of counters that are gone (their
// TTL ran out) are collected by later Hits that create counters, each
// looking at up to 16 due entries, so spraying keys does not grow the
// indexes past the live counters. Redis' clock does not move with core's,
// so the test deletes the counter hashes as their TTLs would.
func TestBoundedIndexes(t *testing.T) {
	rdb := newClient(t)
	prefix := randomPrefix(t, rdb)
	s := newStore(t, rdb, redisstore.Options{Prefix: prefix})
	ctx := context.Background()
	p := core.Policy{Limit: 3, CoolOff: time.Second}
	t0 := time.Unix(1_700_000_000, 0)
	out := make([]core.Counter, 2)
	for i := range 200 {
		ip := "198.51.100." + strconv.Itoa(i)
		keys := []core.Key{core.NewKey(core.ParamIPAddress, ip, "", ""), core.NewKey(core.ParamIPAddress|core.ParamUsername, ip, "u"+strconv.Itoa(i), "")}
		_, err := s.Hit(ctx, keys, t0, p, out)
		require.NoError(t, err)
	}
	indexes, err := scanKeys(rdb, prefix+"{axes}:[iu]:*")
	require.NoError(t, err)
	require.Len(t, indexes, 400, "IP and username indexes of the pairs: got %d, want 400", len(indexes))
	dead, err := scanKeys(rdb, prefix+"{axes}:c:*")
	require.NoError(t, err)
	require.Len(t, dead, 400, "counters after the spray: got %d, want 400", len(dead))
	require.NoError(t, rdb.Del(ctx, dead...).Err())

	// Far later, 25 Hits that each create a counter look at 25 * 16 = 400
	// due entries: all the dead ones.
	later := t0.Add(time.Hour)
	for i := range 25 {
		k := []core.Key{core.NewKey(core.ParamIPAddress, "203.0.113."+strconv.Itoa(i), "", "")}
		_, err := s.Hit(ctx, k, later, p, out[:1])
		require.NoError(t, err)
	}
	n, err := rdb.ZCard(ctx, prefix+"{axes}:C").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(25), n, "counters indexed after collection: got %d, want the 25 live ones", n)
	left, err := scanKeys(rdb, prefix+"{axes}:[iu]:*")
	require.NoError(t, err)
	assert.Empty(t, left, "IP and username indexes after collection: got %v, want none", left)

	// Hits on counters that exist write no index and collect nothing.
	before, err := rdb.ZRangeWithScores(ctx, prefix+"{axes}:C", 0, -1).Result()
	require.NoError(t, err)
	_, err = s.Hit(ctx, []core.Key{core.NewKey(core.ParamIPAddress, "203.0.113.0", "", "")}, later.Add(time.Hour), p, out[:1])
	require.NoError(t, err)
	after, err := rdb.ZRangeWithScores(ctx, prefix+"{axes}:C", 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, before, after, "all-counters index after a Hit on an existing counter: got %v, want %v", after, before)
}

// TestCollectionKeepsLive: an index entry that is due while its counter
// still exists (its TTL was extended by later failures, or it is kept until
// reset) is scheduled again, never removed: Reset still finds the counter.
func TestCollectionKeepsLive(t *testing.T) {
	rdb := newClient(t)
	prefix := randomPrefix(t, rdb)
	s := newStore(t, rdb, redisstore.Options{Prefix: prefix})
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0)
	pair := core.NewKey(core.ParamIPAddress|core.ParamUsername, "192.0.2.7", "carol", "")
	forever := core.NewKey(core.ParamIPAddress|core.ParamUsername, "192.0.2.8", "dave", "")
	out := make([]core.Counter, 1)
	_, err := s.Hit(ctx, []core.Key{pair}, t0, core.Policy{Limit: 3, CoolOff: time.Second}, out)
	require.NoError(t, err)
	_, err = s.Hit(ctx, []core.Key{forever}, t0, core.Policy{Limit: 1}, out)
	require.NoError(t, err)

	// 31 days later (core's clock) both entries are due, the one kept until
	// reset after CounterTTL (30 days by default); their hashes live on.
	later := t0.Add(31 * 24 * time.Hour)
	for i := range 3 {
		k := []core.Key{core.NewKey(core.ParamIPAddress, "203.0.113."+strconv.Itoa(i), "", "")}
		_, err := s.Hit(ctx, k, later, core.Policy{Limit: 3, CoolOff: time.Second}, out)
		require.NoError(t, err)
	}
	for _, k := range []core.Key{pair, forever} {
		score, err := rdb.ZScore(ctx, prefix+"{axes}:C", prefix+"{axes}:c:"+k.ID).Result()
		require.NoError(t, err, "entry of %s in the all-counters index", k.ID)
		assert.Greater(t, score, float64(later.UnixMilli()), "entry of %s: got score %v, want scheduled after %d", k.ID, score, later.UnixMilli())
	}
	n, err := s.Reset(ctx, core.Filter{IP: "192.0.2.7"})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "Reset by IP after collection: got %d counters, want 1", n)
	n, err = s.Reset(ctx, core.Filter{Username: "dave"})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "Reset by username after collection: got %d counters, want 1", n)
}

// TestRecordCaps: MaxAttempts and MaxLogs bound records and logs, oldest
// removed first.
func TestRecordCaps(t *testing.T) {
	rdb := newClient(t)
	s := newStore(t, rdb, redisstore.Options{MaxAttempts: 5, MaxLogs: 7})
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0).UTC()
	for i := range 20 {
		at := t0.Add(time.Duration(i) * time.Second)
		rec := core.AttemptRecord{Username: "user" + strconv.Itoa(i), IP: "192.0.2.1", LastAttempt: at}
		require.NoError(t, s.RecordFailure(ctx, rec, true, false, 0))
		require.NoError(t, s.RecordLogin(ctx, core.AccessLog{Username: rec.Username, IP: rec.IP, LoginTime: at}))
	}
	recs, total, err := s.Attempts(ctx, core.ListQuery{Asc: true})
	require.NoError(t, err)
	require.Equal(t, 5, total, "attempt records with MaxAttempts 5: got %d", total)
	assert.Equal(t, "user15", recs[0].Username, "oldest record kept: got %s, want user15", recs[0].Username)
	_, total, err = s.FailureLogs(ctx, core.ListQuery{})
	require.NoError(t, err)
	assert.Equal(t, 7, total, "failure logs with MaxLogs 7: got %d", total)
	_, total, err = s.AccessLogs(ctx, core.ListQuery{})
	require.NoError(t, err)
	assert.Equal(t, 7, total, "access logs with MaxLogs 7: got %d", total)
	// The IP index lost the trimmed records too: a reset by IP counts 5.
	n, err := s.Reset(ctx, core.Filter{IP: "192.0.2.1"})
	require.NoError(t, err)
	assert.Equal(t, 5, n, "Reset by IP after trimming: got %d records, want 5", n)
}

// TestDeadline: a context deadline is an error wrapping it, never a panic.
func TestDeadline(t *testing.T) {
	rdb := newClient(t)
	s := newStore(t, rdb, redisstore.Options{})
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	out := make([]core.Counter, 1)
	_, err := s.Hit(ctx, []core.Key{core.NewKey(core.ParamIPAddress, "192.0.2.1", "", "")}, time.Now(), core.Policy{Limit: 3}, out)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "axes: redisstore: hit:")
}

// TestUnreachable: a server that does not answer is an error, never a
// panic.
func TestUnreachable(t *testing.T) {
	s, err := redisstore.Open("redis://127.0.0.1:1/0?dial_timeout=200ms&max_retries=-1", redisstore.Options{})
	require.NoError(t, err)
	defer s.Close()
	out := make([]core.Counter, 1)
	_, err = s.Hit(context.Background(), []core.Key{core.NewKey(core.ParamIPAddress, "192.0.2.1", "", "")}, time.Now(), core.Policy{Limit: 3}, out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "axes: redisstore: hit:")
}

func TestOpen(t *testing.T) {
	u := redisURL(t)
	s, err := redisstore.Open(u, redisstore.Options{Prefix: "axestest:open:"})
	require.NoError(t, err, "Open(%s)", u)
	out := make([]core.Counter, 1)
	require.NoError(t, s.Peek(context.Background(), []core.Key{core.NewKey(core.ParamIPAddress, "192.0.2.1", "", "")}, time.Now(), core.Policy{Limit: 3}, out))
	require.NoError(t, s.Close(), "Close")

	for _, tt := range []struct{ name, url, want string }{
		{"scheme", "http://user:s3cret@localhost:6379", "scheme"},
		{"no host", "redis://", "no host"},
		{"unparsable", "redis://user:s3cret@local host:6379", "cannot parse"},
		{"bad port", "redis://user:s3cret@localhost:port/0", "cannot parse"},
		{"bad db", "redis://user:s3cret@localhost:6379/db", "database"},
		{"bad option", "redis://user:s3cret@localhost:6379/0?bogus=s3cret", "bogus"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := redisstore.Open(tt.url, redisstore.Options{})
			require.Error(t, err, "Open(%s)", tt.url)
			assert.Contains(t, err.Error(), tt.want, "Open(%s): error names the problem", tt.url)
			assert.NotContains(t, err.Error(), "s3cret", "Open(%s): error echoes the password", tt.url)
		})
	}
}

// TestOpenNoSecret opens every Redis form of leakcheck with Open, on an
// address where nothing listens and on the test server (which has no
// password, so that AUTH fails): no error, of Open or of the first
// operation, shows a secret.
func TestOpenNoSecret(t *testing.T) {
	for where, addr := range leakcheck.Addresses(t) {
		for _, f := range leakcheck.Forms(addr[0], addr[1]) {
			if !f.Redis {
				continue
			}
			t.Run(where+"/"+f.Name, func(t *testing.T) {
				t.Parallel()
				s, err := redisstore.Open(f.URL, redisstore.Options{Prefix: "axestest:leakcheck:"})
				if err == nil {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					defer cancel()
					out := make([]core.Counter, 1)
					err = s.Peek(ctx, []core.Key{core.NewKey(core.ParamIPAddress, "192.0.2.1", "", "")}, time.Now(), core.Policy{Limit: 3}, out)
					require.NoError(t, s.Close())
				}
				if where == "unreachable" {
					require.Error(t, err)
				}
				if err != nil {
					assert.Contains(t, err.Error(), "axes: redisstore:")
					leakcheck.NoSecret(t, f, "the error", err.Error())
				}
			})
		}
	}
}

func TestNew(t *testing.T) {
	_, err := redisstore.New(nil, redisstore.Options{})
	assert.Error(t, err, "New(nil)")
	rdb := newClient(t)
	_, err = redisstore.New(rdb, redisstore.Options{Prefix: "x{}:"})
	assert.ErrorContains(t, err, "hash tag", "New with a prefix that empties the hash tag")
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: "axestest:{t1}:"})
	require.NoError(t, err, "New with a prefix carrying its own hash tag")
	require.NoError(t, s.Close(), "Close of a store on the caller's client")
	assert.NoError(t, rdb.Ping(context.Background()).Err(), "the caller's client after Store.Close: got an error, want it still open")
}

// TestResetCounters: before any record is kept, Reset counts counters; an
// index entry whose counter is gone (expired by its TTL) is tolerated.
func TestResetCounters(t *testing.T) {
	rdb := newClient(t)
	prefix := randomPrefix(t, rdb)
	s := newStore(t, rdb, redisstore.Options{Prefix: prefix})
	ctx := context.Background()
	now := time.Now()
	p := core.Policy{Limit: 3, CoolOff: time.Hour}
	ip := core.NewKey(core.ParamIPAddress, "192.0.2.1", "", "")
	pair := core.NewKey(core.ParamIPAddress|core.ParamUsername, "192.0.2.1", "alice", "")
	alice := core.NewKey(core.ParamUsername, "", "alice", "")
	out := make([]core.Counter, 3)
	_, err := s.Hit(ctx, []core.Key{ip, pair, alice}, now, p, out)
	require.NoError(t, err)
	// The pair's counter vanishes as if its TTL had run out.
	require.NoError(t, rdb.Del(ctx, prefix+"{axes}:c:"+pair.ID).Err())

	n, err := s.Reset(ctx, core.Filter{IP: "192.0.2.1"})
	require.NoError(t, err, "Reset by IP with a stale index entry")
	assert.Equal(t, 1, n, "Reset by IP: got %d counters removed, want 1 (the live one)", n)
	n, err = s.Reset(ctx, core.Filter{Username: "alice"})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "Reset by username: got %d counters removed, want 1", n)
	require.NoError(t, s.Peek(ctx, []core.Key{ip, pair, alice}, now, p, out))
	for i, c := range out {
		assert.Equal(t, 0, c.Failures, "key %d after the resets: got %d failures, want 0", i, c.Failures)
	}
	left, err := scanKeys(rdb, prefix+"*")
	require.NoError(t, err)
	assert.Empty(t, left, "keys left after resetting every counter: got %v, want none", left)
}
