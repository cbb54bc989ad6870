package pgstore_test

import (
	"context"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/pgstore"
)

// New takes the app's own pool and never closes it; it creates the tables
// and the axes_hit function when they are missing (pgstore.SchemaSQL is
// the DDL, for migrations). Every app instance on the database shares one
// lockout state.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL")) // postgres://user:pw@host/db
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstore.New(pool, pgstore.Options{Schema: "auth", TablePrefix: "axes_"})
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := core.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	cfg.Store = store
	engine, err := core.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	engine.LogStartup(ctx)
}

// Open connects by URL and owns its pool: Close closes it.
func ExampleOpen() {
	store, err := pgstore.Open(context.Background(), os.Getenv("AXES_STORE"), pgstore.Options{})
	if err != nil {
		log.Fatal(err) // the error never shows the URL's password
	}
	defer store.Close()
}
