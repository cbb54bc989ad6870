package sqlitestore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/sqlitestore"
)

// Open a database file (here a private in-memory one) and give it to the
// engine: lockouts and records survive restarts, and the admin page and
// the CLI read them.
func ExampleOpen() {
	store, err := sqlitestore.Open(":memory:", sqlitestore.Options{}) // or "/var/lib/app/axes.db"
	if err != nil {
		panic(err)
	}
	defer store.Close() // Open opened it, so the store closes it

	cfg := core.DefaultConfig()
	cfg.Store = store
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := core.New(cfg)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for range 3 {
		engine.ReportFailure(ctx, &core.Request{RemoteAddr: "203.0.113.7:4000", Username: "alice", Path: "/login"})
	}
	fmt.Println(engine.Status(ctx, &core.Request{RemoteAddr: "203.0.113.7", Username: "alice"}).Outcome)

	records, _ := engine.Records()
	rows, total, err := records.Attempts(ctx, core.ListQuery{})
	if err != nil {
		panic(err)
	}
	fmt.Println(total, rows[0].Username, rows[0].IP, rows[0].Failures)
	// Output:
	// locked
	// 1 alice 203.0.113.7 3
}
