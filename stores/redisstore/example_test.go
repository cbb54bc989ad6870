package redisstore_test

import (
	"context"
	"log"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/redisstore"
)

// New takes the app's own client (a single server, Sentinel or Cluster)
// and never closes it. Every app instance on the server shares one lockout
// state.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	store, err := redisstore.New(rdb, redisstore.Options{})
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
	engine.LogStartup(context.Background())
}

// On Redis Cluster every key of one store carries one hash tag, so the
// store's scripts run on one node. Give each app its own tag in Prefix to
// spread several apps over the cluster.
func ExampleNew_cluster() {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"}})
	defer rdb.Close()
	store, err := redisstore.New(rdb, redisstore.Options{Prefix: "shop:{shop}:"}) // keys: shop:{shop}:{axes}:…
	if err != nil {
		log.Fatal(err)
	}
	_ = store
}

// Open connects by URL and owns its client: Close closes it.
func ExampleOpen() {
	store, err := redisstore.Open("redis://127.0.0.1:6379/0", redisstore.Options{})
	if err != nil {
		log.Fatal(err) // the error never shows the URL's password
	}
	defer store.Close()
}
