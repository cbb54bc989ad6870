package pgstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/core/storetest"
	"github.com/goaxes/axes/stores/pgstore"
)

// tripTracer records what the pool sends: one entry per round trip, the
// statement's text (a batch's texts joined by "; ").
type tripTracer struct {
	mu    sync.Mutex
	trips []string
	batch map[*pgx.Conn][]string
}

func (tr *tripTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	tr.add(d.SQL)
	return ctx
}
func (tr *tripTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (tr *tripTracer) TraceBatchStart(ctx context.Context, c *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.batch[c] = []string{}
	return ctx
}
func (tr *tripTracer) TraceBatchQuery(_ context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.batch[c] = append(tr.batch[c], d.SQL)
}
func (tr *tripTracer) TraceBatchEnd(_ context.Context, c *pgx.Conn, _ pgx.TraceBatchEndData) {
	tr.mu.Lock()
	b := tr.batch[c]
	delete(tr.batch, c)
	tr.mu.Unlock()
	tr.add(strings.Join(b, "; "))
}

func (tr *tripTracer) add(sql string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.trips = append(tr.trips, sql)
}

// take returns the round trips since the last take.
func (tr *tripTracer) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	t := tr.trips
	tr.trips = nil
	return t
}

// tracedPool returns a pool on the test server whose round trips tr
// records, closed when t ends.
func tracedPool(t *testing.T, tr *tripTracer) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgURL(t))
	require.NoError(t, err, "pgxpool.ParseConfig")
	tr.batch = map[*pgx.Conn][]string{}
	cfg.ConnConfig.Tracer = tr
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err, "pgxpool.NewWithConfig")
	t.Cleanup(pool.Close)
	return pool
}

// TestSucceedTwoStatements: a successful login through an Engine (Begin,
// then Succeed) on three keys costs two statements, one round trip each:
// the Hit (axes_hit) and ReleaseAndRecordLogin. Its
// effects are those of Release and RecordLogin: the advance count is
// taken back and the access log row is written.
func TestSucceedTwoStatements(t *testing.T) {
	tr := &tripTracer{}
	pool := tracedPool(t, tr)
	s, err := pgstore.New(pool, pgstore.Options{Schema: freshSchema(t, newPool(t))})
	require.NoError(t, err, "pgstore.New")
	trips := storetest.SucceedThroughEngine(t, s, tr.take)
	require.Len(t, trips, 2, "round trips of Begin+Succeed: got %q, want 2", trips)
	assert.Contains(t, trips[0], "hit(", "first statement: got %q, want the Hit function", trips[0])
	assert.Contains(t, trips[1], "INSERT INTO", "second statement: got %q, want the release and the access log", trips[1])
}

// TestReleaseAndRecordLogin: the combined step does what Release and then
// RecordLogin do, on counters at two, at one (deleted), expired, missing
// and repeated, in one statement.
func TestReleaseAndRecordLogin(t *testing.T) {
	tr := &tripTracer{}
	pool := tracedPool(t, tr)
	ctx := context.Background()
	ip := core.NewKey(core.ParamIPAddress, "192.0.2.1", "", "")
	user := core.NewKey(core.ParamUsername, "", "bob", "")
	pair := core.NewKey(core.ParamIPAddress|core.ParamUsername, "192.0.2.1", "bob", "")
	p := core.Policy{Limit: 10, CoolOff: time.Minute, Tiers: []core.Tier{{Failures: 2, CoolOff: time.Hour}}}
	for _, tt := range []struct {
		name    string
		hits    [][]core.Key // Hits at t0, in order
		release []core.Key
		at      time.Time
		want    []int // ip, user, pair after the step
		rows    int   // counter rows left
	}{
		{"two to one", [][]core.Key{{ip, user, pair}, {ip, user, pair}}, []core.Key{ip, user, pair}, t0, []int{1, 1, 1}, 3},
		{"one to none", [][]core.Key{{ip, user, pair}}, []core.Key{ip, user, pair}, t0, []int{0, 0, 0}, 0},
		{"mixed", [][]core.Key{{ip, user, pair}, {ip}}, []core.Key{ip, user, pair}, t0, []int{1, 0, 0}, 1},
		{"repeated key once", [][]core.Key{{ip}, {ip}, {ip}}, []core.Key{ip, ip}, t0, []int{2, 0, 0}, 1},
		{"expired", [][]core.Key{{ip}}, []core.Key{ip}, t0.Add(2 * time.Minute), []int{0, 0, 0}, 0},
		{"tier keeps it", [][]core.Key{{ip}, {ip}, {ip}}, []core.Key{ip}, t0.Add(2 * time.Minute), []int{2, 0, 0}, 1},
		{"tier expired", [][]core.Key{{ip}, {ip}, {ip}}, []core.Key{ip}, t0.Add(2 * time.Hour), []int{0, 0, 0}, 0},
		{"missing", nil, []core.Key{ip, user}, t0, []int{0, 0, 0}, 0},
		{"no keys", [][]core.Key{{ip}}, nil, t0, []int{1, 0, 0}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			schema := freshSchema(t, pool)
			s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
			require.NoError(t, err, "pgstore.New")
			for _, ks := range tt.hits {
				_, err := s.Hit(ctx, ks, t0, p, make([]core.Counter, len(ks)))
				require.NoError(t, err, "Hit")
			}
			log := core.AccessLog{Username: "bob", IP: "192.0.2.1", UserAgent: "ua/1", Path: "/in", LoginTime: tt.at}
			tr.take()
			require.NoError(t, s.ReleaseAndRecordLogin(ctx, tt.release, tt.at, p, log), "ReleaseAndRecordLogin")
			trips := tr.take()
			assert.Len(t, trips, 1, "round trips of ReleaseAndRecordLogin: got %q, want 1", trips)

			out := make([]core.Counter, 3)
			require.NoError(t, s.Peek(ctx, []core.Key{ip, user, pair}, tt.at, p, out))
			assert.Equal(t, tt.want, []int{out[0].Failures, out[1].Failures, out[2].Failures}, "counters (ip, user, pair) after the step")
			var rows int
			require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "axes_counters"}.Sanitize()).Scan(&rows))
			assert.Equal(t, tt.rows, rows, "counter rows left: got %d, want %d", rows, tt.rows)

			logs, total, err := s.AccessLogs(ctx, core.ListQuery{})
			require.NoError(t, err)
			require.Equal(t, 1, total, "access logs: got %d, want 1", total)
			assert.Equal(t, core.AccessLog{ID: logs[0].ID, Username: "bob", IP: "192.0.2.1", UserAgent: "ua/1", Path: "/in", LoginTime: tt.at}, logs[0])
		})
	}
}

// TestReleaseAndRecordLoginConcurrent: Hits and successful logins on the
// same keys at once, in every key order, from two pools, neither lose a
// count nor deadlock.
func TestReleaseAndRecordLoginConcurrent(t *testing.T) {
	poolA, poolB := newPool(t), newPool(t)
	schema := freshSchema(t, poolA)
	a, err := pgstore.New(poolA, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	b, err := pgstore.New(poolB, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	ctx := context.Background()
	ip := core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
	user := core.NewKey(core.ParamUsername, "", "alice", "")
	pair := core.NewKey(core.ParamIPAddress|core.ParamUsername, "10.0.0.1", "alice", "")
	orders := [][]core.Key{{ip, user, pair}, {pair, user, ip}, {user, ip, pair}}
	p := core.Policy{Limit: 0, CoolOff: time.Hour} // counts, never locks
	for range 3 {
		_, err := a.Hit(ctx, orders[0], t0, p, make([]core.Counter, 3))
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 60 {
		s := a
		if i%2 == 1 {
			s = b
		}
		keys := orders[i%len(orders)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Hit(ctx, keys, t0, p, make([]core.Counter, 3))
			if !assert.NoError(t, err, "Hit") {
				return
			}
			assert.NoError(t, s.ReleaseAndRecordLogin(ctx, keys, t0, p, core.AccessLog{Username: "alice", IP: "10.0.0.1", LoginTime: t0}), "ReleaseAndRecordLogin")
		}()
	}
	close(start)
	wg.Wait()
	out := make([]core.Counter, 3)
	require.NoError(t, a.Peek(ctx, orders[0], t0, p, out))
	for i, c := range out {
		assert.Equal(t, 3, c.Failures, "key %d after 60 Hits each taken back: got %d, want 3", i, c.Failures)
	}
	_, total, err := a.AccessLogs(ctx, core.ListQuery{})
	require.NoError(t, err)
	assert.Equal(t, 60, total, "access logs: got %d, want 60", total)
}

// TestReleaseAndRecordLoginPlannedOnce: the statement's generic plan is
// used once the server has tried it, so that it is not planned again at
// every call (an array parameter would make the server plan each call).
func TestReleaseAndRecordLoginPlannedOnce(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(pgURL(t))
	require.NoError(t, err)
	cfg.MaxConns = 1 // one session: its prepared statements are the store's
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := pgstore.New(pool, pgstore.Options{Schema: freshSchema(t, newPool(t))})
	require.NoError(t, err)
	ctx := context.Background()
	p := core.Policy{Limit: 10, CoolOff: time.Hour}
	keys := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", ""), core.NewKey(core.ParamUsername, "", "alice", "")}
	for range 20 {
		_, err := s.Hit(ctx, keys, t0, p, make([]core.Counter, 2))
		require.NoError(t, err)
		require.NoError(t, s.ReleaseAndRecordLogin(ctx, keys, t0, p, core.AccessLog{Username: "alice", IP: "10.0.0.1", LoginTime: t0}))
	}
	var generic, custom int64
	// A prefix that this query's own text (also a prepared statement) does
	// not start with.
	require.NoError(t, pool.QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE 'WITH l AS MATERIALIZED%'`).Scan(&generic, &custom))
	assert.GreaterOrEqual(t, generic, int64(10), "generic plans of 20 calls: got %d (and %d custom), want most", generic, custom)
}
