package bench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/redisstore"
	"github.com/goaxes/axes/stores/sqlitestore"
	"github.com/redis/go-redis/v9"
)

// storeKeys is how many distinct clients the store benchmarks spread over.
const storeKeys = 1_000

// A storeFixture is one store under an engine, with the round trips it
// makes counted on the client side and, where the server tells, on the
// server side.
type storeFixture struct {
	store core.Store
	// trips counts the client's round trips (commands, pipelines,
	// statements) since the start; nil when not counted.
	trips *atomic.Int64
	// server returns a server-side count of top-level operations (Redis:
	// script calls from INFO commandstats); nil when not available.
	server func() int64
	// serverName names what server counts.
	serverName string
	close      func()
}

type storeKind struct {
	name string
	open func(tb testing.TB) *storeFixture
}

var storeKinds = []storeKind{
	{"axes-sqlite", openSQLite},
	{"axes-postgres", openPostgres},
	{"axes-redis", openRedis},
}

func openSQLite(tb testing.TB) *storeFixture {
	tb.Helper()
	trips := new(atomic.Int64)
	db := openCountingSQLite(filepath.Join(tb.TempDir(), "axes.db"), trips)
	s, err := sqlitestore.New(db, sqlitestore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return &storeFixture{store: s, trips: trips, close: func() { db.Close() }}
}

func redisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("AXES_TEST_REDIS_URL")
	if u == "" {
		tb.Skip("AXES_TEST_REDIS_URL is not set")
	}
	return u
}

// tripHook counts go-redis round trips: one per command, one per pipeline.
type tripHook struct{ n *atomic.Int64 }

func (h tripHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

func redisClient(tb testing.TB, url string, trips *atomic.Int64) *redis.Client {
	tb.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	opt.PoolSize = 32
	rdb := redis.NewClient(opt)
	if trips != nil {
		rdb.AddHook(tripHook{trips})
	}
	return rdb
}

// scriptCalls reads the server's count of script calls (EVALSHA, EVAL and
// their read-only forms) from INFO commandstats: the top-level commands,
// whatever the scripts call inside.
func scriptCalls(rdb *redis.Client) func() int64 {
	return func() int64 {
		info, err := rdb.Info(context.Background(), "commandstats").Result()
		if err != nil {
			return -1
		}
		var n int64
		sc := bufio.NewScanner(strings.NewReader(info))
		for sc.Scan() {
			name, rest, ok := strings.Cut(sc.Text(), ":")
			switch name {
			case "cmdstat_evalsha", "cmdstat_eval", "cmdstat_evalsha_ro", "cmdstat_eval_ro", "cmdstat_fcall":
			default:
				continue
			}
			if ok {
				calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
				c, _ := strconv.ParseInt(calls, 10, 64)
				n += c
			}
		}
		return n
	}
}

func openRedis(tb testing.TB) *storeFixture {
	tb.Helper()
	url := redisURL(tb)
	trips := new(atomic.Int64)
	rdb := redisClient(tb, url, trips)
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: fmt.Sprintf("bench%d:", rand.Uint32())})
	if err != nil {
		tb.Fatal(err)
	}
	admin := redisClient(tb, url, nil)
	return &storeFixture{store: s, trips: trips, server: scriptCalls(admin), serverName: "scripts/op",
		close: func() { rdb.Close(); admin.Close() }}
}

// threeKeys locks out by username, by IP and by the pair: three keys per
// attempt, one store step.
var threeKeys = []core.Combination{core.ParamUsername, core.ParamIPAddress, core.ParamIPAddress | core.ParamUsername}

// measure runs op b.N times (serially, or over 8 goroutines per core, as
// a server's handlers would, for networked stores) and reports the round
// trips per operation.
func measure(b *testing.B, f *storeFixture, parallel bool, op func(i int) bool) {
	var before, serverBefore int64
	if f.trips != nil {
		before = f.trips.Load()
	}
	if f.server != nil {
		serverBefore = f.server()
	}
	var bad sync.Once
	run := func(i int) {
		if !op(i) {
			bad.Do(func() { b.Error("unexpected outcome") })
		}
	}
	if parallel {
		b.SetParallelism(8)
	}
	each(b, parallel, storeKeys, run)
	b.StopTimer()
	if f.trips != nil {
		b.ReportMetric(float64(f.trips.Load()-before)/float64(b.N), "trips/op")
	}
	if f.server != nil {
		b.ReportMetric(float64(f.server()-serverBefore)/float64(b.N), f.serverName)
	}
}

// BenchmarkStores measures our four paths on each durable or shared
// store (check: Status of an unlocked key; fail: Begin+Fail; success:
// Begin+Succeed; refused: Begin of a locked key), plus a failure with three
// lockout keys (username, IP, both), spread over 1,000 clients; and
// ulule/limiter's Redis store on the same server.
func BenchmarkStores(b *testing.B) {
	ctx := context.Background()
	_, addrs := keySet(storeKeys, false)
	for _, k := range storeKinds {
		b.Run(k.name, func(b *testing.B) {
			f := k.open(b)
			defer f.close()
			e := newEngine(b, f.store, noLimit)
			populate(b, e, addrs, 1)
			cfg := engineConfig(f.store, noLimit)
			cfg.LockoutParameters = threeKeys
			e3, err := core.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			locked := newEngine(b, f.store, peerLimit)
			lockedAddr := "192.0.2.1:40000"
			populate(b, locked, []string{lockedAddr}, peerLimit)
			for _, p := range []path{pathCheck, pathFail, pathSuccess} {
				for _, m := range modes {
					b.Run(p.name+"/"+m.name, func(b *testing.B) {
						measure(b, f, m.parallel, func(i int) bool {
							r := loginRequest(addrs[i])
							return p.op(ctx, e, &r)
						})
					})
				}
			}
			for _, m := range modes {
				b.Run("refused/"+m.name, func(b *testing.B) {
					measure(b, f, m.parallel, func(int) bool {
						r := loginRequest(lockedAddr)
						return pathRefused.op(ctx, locked, &r)
					})
				})
				b.Run("fail-3keys/"+m.name, func(b *testing.B) {
					measure(b, f, m.parallel, func(i int) bool {
						r := loginRequest(addrs[i])
						r.Username = "user" + strconv.Itoa(i)
						return pathFail.op(ctx, e3, &r)
					})
				})
			}
		})
	}
	b.Run("ulule-redis", func(b *testing.B) {
		url := redisURL(b)
		ips, _ := keySet(storeKeys, false)
		trips := new(atomic.Int64)
		rdb := redisClient(b, url, trips)
		defer rdb.Close()
		admin := redisClient(b, url, nil)
		defer admin.Close()
		u, err := newUluleRedisClient(rdb)
		if err != nil {
			b.Fatal(err)
		}
		f := &storeFixture{trips: trips, server: scriptCalls(admin), serverName: "scripts/op"}
		for _, k := range ips {
			u.fail(ctx, k)
		}
		u.fail(ctx, "192.0.2.1")
		for range peerLimit {
			u.fail(ctx, "192.0.2.1")
		}
		for _, op := range []string{"check", "fail", "refused"} {
			for _, m := range modes {
				b.Run(op+"/"+m.name, func(b *testing.B) {
					measure(b, f, m.parallel, func(i int) bool {
						switch op {
						case "check":
							u.check(ctx, ips[i])
						case "fail":
							u.fail(ctx, ips[i])
						default:
							return u.fail(ctx, "192.0.2.1")
						}
						return true
					})
				})
			}
		}
	})
}
