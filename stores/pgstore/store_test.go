package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/core/storetest"
	"github.com/goaxes/axes/stores/pgstore"
)

// pgURL returns the test server's URL; without one the test is skipped, or
// fails under AXES_REQUIRE_SERVICES=1 (make test).
func pgURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("AXES_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
			t.Fatal("AXES_TEST_POSTGRES_URL is not set and AXES_REQUIRE_SERVICES=1: PostgreSQL is required")
		}
		t.Skip("AXES_TEST_POSTGRES_URL is not set")
	}
	return u
}

// newPool returns a pool on the test server, closed when t ends.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgURL(t))
	require.NoError(t, err, "pgxpool.New")
	t.Cleanup(pool.Close)
	return pool
}

// freshSchema returns the name of a new schema, dropped when t ends.
func freshSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "axes_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// newStore returns a store in a fresh schema of the shared pool.
func newStore(t testing.TB, pool *pgxpool.Pool) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(pool, pgstore.Options{Schema: freshSchema(t, pool)})
	require.NoError(t, err, "pgstore.New")
	return s
}

func TestStore(t *testing.T) {
	pool := newPool(t)
	storetest.Run(t, func(t *testing.T) core.Store { return newStore(t, pool) })
}
