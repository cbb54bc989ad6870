package storeurl_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/leakcheck"
	"github.com/goaxes/axes/stores/storeurl"
)

func TestOpenBadURLs(t *testing.T) {
	for name, s := range map[string]string{
		"unknown scheme":    "mysql://root:hunter2@db/axes",
		"no scheme":         "localhost:6379",
		"sqlite no path":    "sqlite:",
		"postgres no host":  "postgres://:hunter2@/axes",
		"redis no host":     "redis://:hunter2@",
		"garbage with cred": "%%%://user:hunter2@host",
	} {
		t.Run(name, func(t *testing.T) {
			st, c, err := storeurl.Open(context.Background(), s)
			require.Error(t, err, "Open(%q)", s)
			assert.Nil(t, st)
			assert.Nil(t, c)
			assert.NotContains(t, err.Error(), "hunter2", "the error echoes a password")
			assert.Contains(t, err.Error(), "axes:")
		})
	}
}

func TestOpenMemoryAndSQLite(t *testing.T) {
	for _, s := range []string{"", "memory", "sqlite:" + filepath.Join(t.TempDir(), "axes.db")} {
		st, c, err := storeurl.Open(context.Background(), s)
		require.NoError(t, err, "Open(%q)", s)
		var out [1]core.Counter
		k := core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
		_, err = st.Hit(context.Background(), []core.Key{k}, time.Unix(1_700_000_000, 0), core.Policy{Limit: 3}, out[:])
		require.NoError(t, err)
		assert.Equal(t, 1, out[0].Failures, "store %q counts", s)
		require.NoError(t, c.Close())
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range []string{"postgres://axes:hunter2@127.0.0.1:1/axes?connect_timeout=2", "redis://:hunter2@127.0.0.1:1/0"} {
		st, c, err := storeurl.Open(ctx, s)
		if err == nil {
			// Lazy clients may only fail on first use: the store must say so.
			var out [1]core.Counter
			k := core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
			_, err = st.Hit(ctx, []core.Key{k}, time.Now(), core.Policy{Limit: 3}, out[:])
			_ = c.Close()
		}
		require.Error(t, err, "an unreachable %q must give an error", s)
		assert.NotContains(t, err.Error(), "hunter2")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:hunter2@127.0.0.1:6379/0": "redis://:xxxxx@127.0.0.1:6379/0",
		"postgres://axes:hunter2@db/axes":   "postgres://axes:xxxxx@db/axes",
		"sqlite:/var/lib/axes.db":           "sqlite:/var/lib/axes.db",
		"memory":                            "memory",
		"%%%://user:hunter2@host":           "%%%://user:xxxxx@host",
	} {
		assert.Equal(t, want, storeurl.Redact(in), "Redact(%q)", in)
	}
}

// TestNoSecretInErrors opens every form of leakcheck through Open, on an
// address where nothing listens and on the real servers: neither the error
// (of Open or, for a lazy client, of the first operation) nor Redact shows
// the secret.
func TestNoSecretInErrors(t *testing.T) {
	for where, addr := range leakcheck.Addresses(t) {
		for _, f := range leakcheck.Forms(addr[0], addr[1]) {
			t.Run(where+"/"+f.Name, func(t *testing.T) {
				t.Parallel()
				leakcheck.NoSecret(t, f, "Redact", storeurl.Redact(f.URL))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				st, c, err := storeurl.Open(ctx, f.URL)
				if err == nil {
					// A TLS client on a plain server would wait for ever.
					hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
					defer cancel()
					var out [1]core.Counter
					k := core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")
					_, err = st.Hit(hctx, []core.Key{k}, time.Now(), core.Policy{Limit: 3}, out[:])
					require.NoError(t, c.Close())
				}
				if where == "unreachable" {
					require.Error(t, err)
				}
				if err != nil {
					assert.Contains(t, err.Error(), "axes:")
					leakcheck.NoSecret(t, f, "the error", err.Error())
				}
			})
		}
	}
}
