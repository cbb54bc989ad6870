package core_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// wrapped is a store wrapper with Unwrap, as axesprom.InstrumentStore's.
type wrapped struct{ core.Store }

func (w wrapped) Unwrap() core.Store { return w.Store }

// notMemory hides a memory store behind a type without Unwrap.
type notMemory struct{ core.Store }

func TestMode(t *testing.T) {
	for _, tc := range []struct {
		params string
		want   string
	}{
		{"ip_address", "blocking by ip_address"},
		{"username,ip_address+user_agent", "blocking by username or combination of ip_address and user_agent"},
		{"username+ip_address", "blocking by combination of username and ip_address"},
		{"username+ip_address+user_agent,ip_address", "blocking by combination of username and ip_address and user_agent or ip_address"},
	} {
		t.Run(tc.params, func(t *testing.T) {
			cfg := core.DefaultConfig()
			var err error
			cfg.LockoutParameters, err = core.ParseLockoutParameters(tc.params)
			require.NoError(t, err)
			e, err := core.New(cfg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, e.Mode())
		})
	}
	cfg := core.DefaultConfig()
	cfg.Enabled = false
	e, err := core.New(cfg)
	require.NoError(t, err)
	assert.Equal(t, "disabled", e.Mode())
}

func TestWarnings(t *testing.T) {
	shared := notMemory{core.NewMemoryStore(core.MemoryOptions{})} // stands for Redis or PostgreSQL
	for _, tc := range []struct {
		name string
		cfg  func(*core.Config)
		want []string // one substring per warning, in order
	}{
		{"safe", func(c *core.Config) {}, nil},
		{"memory store", func(c *core.Config) { c.Store = nil }, []string{"memory store"}},
		{"wrapped memory store", func(c *core.Config) { c.Store = wrapped{core.NewMemoryStore(core.MemoryOptions{})} }, []string{"several instances"}},
		{"no ip_address", func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername, core.ParamUsername | core.ParamUserAgent}
		}, []string{"leave out ip_address"}},
		{"ip_address in a combination is enough", func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername | core.ParamIPAddress}
		}, nil},
		{"reset on success, ip only", func(c *core.Config) { c.ResetOnSuccess = true }, []string{"one valid account buys unlimited guesses"}},
		{"reset on success with username", func(c *core.Config) {
			c.ResetOnSuccess = true
			c.LockoutParameters = []core.Combination{core.ParamIPAddress, core.ParamUsername | core.ParamIPAddress}
		}, nil},
		{"trust everyone v4", func(c *core.Config) { c.TrustedProxies = []string{"10.0.0.0/8", "0.0.0.0/0"} }, []string{"0.0.0.0/0"}},
		{"trust everyone v6", func(c *core.Config) { c.TrustedProxies = []string{"::/0"} }, []string{"::/0: forwarded headers are believed from everyone"}},
		{"fail open", func(c *core.Config) { c.FailOpen = true }, []string{"FailOpen"}},
		{"whitelist alone", func(c *core.Config) { c.IPWhitelist = []string{"10.0.0.1"} }, []string{"IPWhitelist"}},
		{"whitelist that works", func(c *core.Config) {
			c.IPWhitelist = []string{"10.0.0.1"}
			c.NeverLockoutWhitelist = true
		}, nil},
		{"no lockout", func(c *core.Config) { c.LockOutAtFailure = false }, []string{"nobody is ever locked out"}},
		{"a function decides the parameters", func(c *core.Config) {
			c.LockoutParameters = []core.Combination{core.ParamUsername}
			c.LockoutParametersFunc = func(core.Facts) []core.Combination { return nil }
		}, nil},
		{"disabled", func(c *core.Config) {
			c.Enabled = false
			c.FailOpen = true
		}, []string{"disabled"}},
		{"several", func(c *core.Config) {
			c.Store = nil
			c.LockoutParameters = []core.Combination{core.ParamUsername}
			c.ResetOnSuccess = true
			c.FailOpen = true
		}, []string{"ip_address", "memory store", "FailOpen"}}, // username counted: ResetOnSuccess is safe
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := core.DefaultConfig()
			cfg.Store = shared
			tc.cfg(&cfg)
			e, err := core.New(cfg)
			require.NoError(t, err)
			got := e.Warnings()
			require.Len(t, got, len(tc.want), "got %q", got)
			for i, w := range tc.want {
				assert.Contains(t, got[i], w)
			}
		})
	}
}

func TestLogStartup(t *testing.T) {
	var buf bytes.Buffer
	cfg := core.DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	cfg.LockoutParameters = []core.Combination{core.ParamUsername, core.ParamIPAddress | core.ParamUserAgent}
	cfg.FailOpen = true
	e, err := core.New(cfg)
	require.NoError(t, err)
	e.LogStartup(context.Background())
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3, buf.String())
	assert.Contains(t, lines[0], `level=INFO msg="axes: BEGIN version `+core.Version+`, blocking by username or combination of ip_address and user_agent"`)
	assert.Contains(t, lines[0], "lockout_parameters=username,ip_address+user_agent")
	assert.Contains(t, lines[1], `level=WARN msg="axes: the memory store`)
	assert.Contains(t, lines[2], `level=WARN msg="axes: FailOpen`)

	// Not verbose: no BEGIN line (django-axes logs it only with AXES_VERBOSE);
	// warnings still.
	buf.Reset()
	cfg.Verbose = false
	e, err = core.New(cfg)
	require.NoError(t, err)
	e.LogStartup(context.Background())
	assert.NotContains(t, buf.String(), "BEGIN")
	assert.Contains(t, buf.String(), "FailOpen")
}
