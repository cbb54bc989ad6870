package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"

	"github.com/goaxes/axes/stores/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgTracer counts statements sent by pgx (each one round trip) and
// batches (one round trip each).
type pgTracer struct{ n *atomic.Int64 }

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.n.Add(1)
	return ctx
}
func (t pgTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (t pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.n.Add(1)
	return ctx
}
func (t pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (t pgTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// pgStatements returns the server's count of top-level statements run in
// the database, from pg_stat_statements, or nil when that extension is not
// loaded (scripts/bench.sh loads it; the shared test servers need not).
func pgStatements(tb testing.TB, admin *pgxpool.Pool) func() int64 {
	tb.Helper()
	ctx := context.Background()
	if _, err := admin.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return nil
	}
	const q = `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND query NOT LIKE '%pg_stat_statements%'`
	var n int64
	if err := admin.QueryRow(ctx, q).Scan(&n); err != nil {
		return nil
	}
	return func() int64 {
		if err := admin.QueryRow(ctx, q).Scan(&n); err != nil {
			return -1
		}
		return n
	}
}

func openPostgres(tb testing.TB) *storeFixture {
	tb.Helper()
	url := os.Getenv("AXES_TEST_POSTGRES_URL")
	if url == "" {
		tb.Skip("AXES_TEST_POSTGRES_URL is not set")
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = 16
	trips := new(atomic.Int64)
	cfg.ConnConfig.Tracer = pgTracer{trips}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	admin, err := pgxpool.New(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := pgstore.New(pool, pgstore.Options{TablePrefix: fmt.Sprintf("bench%d_", rand.Uint32())})
	if err != nil {
		tb.Fatal(err)
	}
	f := &storeFixture{store: s, trips: trips, close: func() { pool.Close(); admin.Close() }}
	if f.server = pgStatements(tb, admin); f.server != nil {
		f.serverName = "server-stmts/op"
	}
	return f
}
