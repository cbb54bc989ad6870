// Package leakcheck is the one table of the ways a store's secret can be
// written in AXES_STORE (or --store): every form that the PostgreSQL and
// Redis drivers accept, with the secrets that must show in no log line and
// no error. The tests of storeurl, of the stores, of the axes command and
// of the example apps run it.
package leakcheck

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Form is one way of writing a store URL with a secret in it.
type Form struct {
	Name string
	URL  string
	// Secrets are the texts that no output may hold: the secret as written,
	// as decoded, and the fragments of it that a parser may misread as a
	// host, a port or a database.
	Secrets []string
	// Postgres, Redis: the store that the URL names, if it is one.
	Postgres, Redis bool
}

// Unreachable is an address where nothing listens.
const Unreachable = "127.0.0.1:1"

// Forms returns every form, on the PostgreSQL server at pg and the Redis
// server at redis (host:port each).
func Forms(pg, redis string) []Form {
	pgHost, pgPort, _ := net.SplitHostPort(pg)
	const q = "sslmode=disable&connect_timeout=3"
	const kv = " user=postgres dbname=postgres sslmode=disable connect_timeout=3"
	kvAddr := "host=" + pgHost + " port=" + pgPort
	fs := []Form{
		{Name: "postgres user info", URL: "postgres://postgres:S3cretPW@" + pg + "/postgres?" + q, Secrets: []string{"S3cretPW"}},
		{Name: "postgresql user info", URL: "postgresql://postgres:S3cretPW@" + pg + "/postgres?" + q, Secrets: []string{"S3cretPW"}},
		{Name: "postgres password parameter", URL: "postgres://" + pg + "/postgres?user=postgres&password=S3cretPW&" + q, Secrets: []string{"S3cretPW"}},
		{Name: "postgres PASSWORD parameter", URL: "postgres://" + pg + "/postgres?user=postgres&PASSWORD=S3cretPW&" + q, Secrets: []string{"S3cretPW"}},
		{Name: "postgres sslpassword parameter", URL: "postgres://postgres@" + pg + "/postgres?sslpassword=S3cretPW&" + q, Secrets: []string{"S3cretPW"}},
		{Name: "postgres encoded parameter name", URL: "postgres://" + pg + "/postgres?user=postgres&pass%77ord=S3cretPW&" + q, Secrets: []string{"S3cretPW"}},
		{Name: "postgres encoded password", URL: "postgres://postgres:S3cret%40PW%2Fx@" + pg + "/postgres?" + q, Secrets: []string{"S3cret%40PW%2Fx", "S3cret@PW/x"}},
		{Name: "postgres unescaped @ in password", URL: "postgres://postgres:S3c@ret2PW@" + pg + "/postgres?" + q, Secrets: []string{"S3c@ret2PW", "ret2PW"}},
		{Name: "postgres unescaped / in password", URL: "postgres://postgres:S3c/ret3PW@" + pg + "/postgres?" + q, Secrets: []string{"S3c/ret3PW", "ret3PW"}},
		{Name: "postgres unescaped ? in password", URL: "postgres://postgres:S3c?ret4PW@" + pg + "/postgres?" + q, Secrets: []string{"S3c?ret4PW", "ret4PW"}},
		{Name: "postgres unescaped : and @ in password", URL: "postgres://postgres:S3c:r@et5PW@" + pg + "/postgres?" + q, Secrets: []string{"S3c:r@et5PW", "et5PW"}},
		{Name: "postgres @ in the password parameter", URL: "postgres://" + pg + "?user=postgres&password=S3c@rt9PW&" + q, Secrets: []string{"S3c@rt9PW", "rt9PW"}},
		{Name: "postgres keyword/value", URL: kvAddr + " password=S3cretPW" + kv, Secrets: []string{"S3cretPW"}},
		{Name: "postgres keyword/value first", URL: "password=S3cretPW " + kvAddr + kv, Secrets: []string{"S3cretPW"}},
		{Name: "postgres keyword/value quoted", URL: kvAddr + " password='S3cret Tail6'" + kv, Secrets: []string{"S3cret Tail6", "Tail6"}},
		{Name: "postgres keyword/value spaced", URL: kvAddr + " password = S3cretPW" + kv, Secrets: []string{"S3cretPW"}},
		{Name: "postgres keyword/value escaped", URL: kvAddr + ` password=S3cret\ Tail7` + kv, Secrets: []string{`S3cret\ Tail7`, "S3cret Tail7", "Tail7"}},
		{Name: "postgres keyword/value PASSWORD", URL: kvAddr + " PASSWORD=S3cretPW" + kv, Secrets: []string{"S3cretPW"}},
		{Name: "postgres keyword/value sslpassword", URL: kvAddr + " sslpassword=S3cretPW" + kv, Secrets: []string{"S3cretPW"}},
		{Name: "postgres keyword/value unterminated quote", URL: kvAddr + " password='S3cret Tail8" + kv, Secrets: []string{"S3cret", "Tail8"}},

		{Name: "redis password", URL: "redis://:S3cretPW@" + redis + "/0", Secrets: []string{"S3cretPW"}},
		{Name: "redis user and password", URL: "redis://default:S3cretPW@" + redis + "/0", Secrets: []string{"S3cretPW"}},
		// A TLS client of a plain server waits for an answer that never
		// comes: the timeouts bound the wait.
		{Name: "rediss password", URL: "rediss://:S3cretPW@" + redis + "/0?dial_timeout=1s&read_timeout=1s&write_timeout=1s&max_retries=-1", Secrets: []string{"S3cretPW"}},
		{Name: "redis unescaped @ in password", URL: "redis://:S3c@ret2PW@" + redis + "/0", Secrets: []string{"S3c@ret2PW", "ret2PW"}},
		{Name: "redis unescaped / in password", URL: "redis://:S3c/ret3PW@" + redis + "/0", Secrets: []string{"S3c/ret3PW", "ret3PW"}},
		{Name: "redis encoded password", URL: "redis://:S3cret%40PW@" + redis + "/0", Secrets: []string{"S3cret%40PW", "S3cret@PW"}},
		{Name: "redis password parameter", URL: "redis://" + redis + "/0?password=S3cretPW", Secrets: []string{"S3cretPW"}},
		{Name: "redis unix socket password", URL: "unix://:S3cretPW@/nonexistent/redis.sock?db=0", Secrets: []string{"S3cretPW"}},
		{Name: "redis unix socket password parameter", URL: "unix:///nonexistent/redis.sock?db=0&password=S3cretPW", Secrets: []string{"S3cretPW"}},

		{Name: "unknown scheme", URL: "mysql://root:S3cretPW@" + pg + "/axes", Secrets: []string{"S3cretPW"}},
		{Name: "no scheme", URL: "root:S3cretPW@" + pg, Secrets: []string{"S3cretPW"}},
		{Name: "garbage", URL: "%%%://user:S3cretPW@" + pg, Secrets: []string{"S3cretPW"}},
	}
	for i := range fs {
		f := &fs[i]
		f.Postgres = strings.HasPrefix(f.Name, "postgres")
		f.Redis = strings.HasPrefix(f.Name, "redis")
	}
	return fs
}

// Addresses returns the addresses of PostgreSQL and Redis to run Forms on:
// one where nothing listens, and the real servers of AXES_TEST_POSTGRES_PORT
// and AXES_TEST_REDIS_PORT when they are set (their PostgreSQL trusts every
// password, so that the forms that name it open; their Redis has none, so
// that those with a password fail on AUTH).
func Addresses(t testing.TB) map[string][2]string {
	t.Helper()
	addrs := map[string][2]string{"unreachable": {Unreachable, Unreachable}}
	pg, redis := os.Getenv("AXES_TEST_POSTGRES_PORT"), os.Getenv("AXES_TEST_REDIS_PORT")
	if pg == "" || redis == "" {
		if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
			t.Fatal("AXES_TEST_POSTGRES_PORT or AXES_TEST_REDIS_PORT is not set and AXES_REQUIRE_SERVICES=1")
		}
		t.Log("AXES_TEST_POSTGRES_PORT or AXES_TEST_REDIS_PORT is not set: only unreachable addresses")
		return addrs
	}
	addrs["reachable"] = [2]string{"127.0.0.1:" + pg, "127.0.0.1:" + redis}
	return addrs
}

// NoSecret fails t when out holds one of f's secrets.
func NoSecret(t testing.TB, f Form, what, out string) {
	t.Helper()
	for _, s := range f.Secrets {
		assert.NotContains(t, out, s, "%s of %s (%s) shows the secret %q", what, f.Name, f.URL, s)
	}
}
