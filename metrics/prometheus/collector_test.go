package axesprom_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	axesprom "github.com/goaxes/axes/metrics/prometheus"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// setup returns an engine on an instrumented memory store, its collector
// and registry.
func setup(t *testing.T, mod func(*core.Config)) (*core.Engine, *axesprom.Collector, *prometheus.Registry, *clock) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := axesprom.New(reg, axesprom.Options{})
	require.NoError(t, err)
	clk := &clock{now: t0}
	cfg := core.DefaultConfig()
	cfg.CoolOff = 30 * time.Minute
	cfg.Clock = clk.Now
	cfg.Logger = discard()
	cfg.Events = core.Events{m}
	cfg.Store = axesprom.InstrumentStore(core.NewMemoryStore(core.MemoryOptions{}), m)
	if mod != nil {
		mod(&cfg)
	}
	e, err := core.New(cfg)
	require.NoError(t, err)
	return e, m, reg, clk
}

func req(ip, user string) *core.Request {
	return &core.Request{RemoteAddr: ip + ":1234", Header: http.Header{"User-Agent": {"test"}}, Method: "POST", Path: "/login", Username: user}
}

func TestCountersFollowAnAttack(t *testing.T) {
	e, _, reg, _ := setup(t, nil)
	ctx := context.Background()
	for range 3 {
		a := e.Begin(ctx, req("192.0.2.1", "alice"))
		require.False(t, a.Decision().Refused())
		a.Fail(ctx)
	}
	for range 2 {
		a := e.Begin(ctx, req("192.0.2.1", "alice"))
		require.Equal(t, core.Locked, a.Decision().Outcome)
	}
	a := e.Begin(ctx, req("192.0.2.2", "bob"))
	a.Succeed(ctx)
	e.ReportLogout(ctx, req("192.0.2.2", "bob"))
	n, err := e.Reset(ctx, core.Filter{IP: "192.0.2.1"})
	require.NoError(t, err)
	require.Equal(t, 1, n)

	want := `
# HELP axes_login_failures_total Login failures recorded (django-axes' user_login_failed).
# TYPE axes_login_failures_total counter
axes_login_failures_total 3
# HELP axes_lockouts_total Login failures that locked a client out (django-axes' user_locked_out).
# TYPE axes_lockouts_total counter
axes_lockouts_total 1
# HELP axes_logins_total Successful logins.
# TYPE axes_logins_total counter
axes_logins_total 1
# HELP axes_logouts_total Logouts.
# TYPE axes_logouts_total counter
axes_logouts_total 1
# HELP axes_refused_total Login attempts refused before the credentials were checked, by reason: locked, blocked, unknown_client.
# TYPE axes_refused_total counter
axes_refused_total{reason="blocked"} 0
axes_refused_total{reason="locked"} 2
axes_refused_total{reason="unknown_client"} 0
# HELP axes_resets_total Resets of lockouts, by what they selected.
# TYPE axes_resets_total counter
axes_resets_total{kind="all"} 0
axes_resets_total{kind="ip"} 1
axes_resets_total{kind="ip_or_username"} 0
axes_resets_total{kind="ip_username"} 0
axes_resets_total{kind="username"} 0
# HELP axes_reset_attempts_removed_total Attempt records removed by resets.
# TYPE axes_reset_attempts_removed_total counter
axes_reset_attempts_removed_total{kind="all"} 0
axes_reset_attempts_removed_total{kind="ip"} 1
axes_reset_attempts_removed_total{kind="ip_or_username"} 0
axes_reset_attempts_removed_total{kind="ip_username"} 0
axes_reset_attempts_removed_total{kind="username"} 0
# HELP axes_fail_open_total Login attempts let through uncounted because the store failed (AXES_FAIL_OPEN).
# TYPE axes_fail_open_total counter
axes_fail_open_total 0
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"axes_login_failures_total", "axes_lockouts_total", "axes_logins_total", "axes_logouts_total",
		"axes_refused_total", "axes_resets_total", "axes_reset_attempts_removed_total", "axes_fail_open_total"))

	// 5 begins, 1 succeed: hits; the success released its advance count.
	assert.Equal(t, 6, histCount(t, reg, "hit"))
	assert.Equal(t, 1, histCount(t, reg, "release"))
	assert.Equal(t, 3, histCount(t, reg, "record_failure"))
	assert.Equal(t, 1, histCount(t, reg, "record_login"))
	assert.Equal(t, 1, histCount(t, reg, "record_logout"))
	assert.Equal(t, 1, histCount(t, reg, "reset"))
}

// histCount returns the sample count of the latency histogram for op.
func histCount(t *testing.T, reg *prometheus.Registry, op string) int {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "axes_store_operation_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == op {
					return int(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return 0
}

func TestNoUsernameOrIPInAnyLabel(t *testing.T) {
	e, m, reg, _ := setup(t, func(c *core.Config) { c.IPBlacklist = []string{"198.51.100.0/24"} })
	require.NoError(t, m.WatchLockedClients(e, axesprom.LockedClientsOptions{}))
	ctx := context.Background()
	for range 5 {
		e.ReportFailure(ctx, req("192.0.2.77", "mallory-secret-name"))
		e.ReportFailure(ctx, req("198.51.100.9", "eve"))
	}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				for _, bad := range []string{"mallory", "eve", "192.0.2", "198.51.100"} {
					assert.NotContains(t, l.GetValue(), bad, "metric %s label %s", mf.GetName(), l.GetName())
				}
			}
		}
	}
	assert.Equal(t, 5.0, value(t, reg, "axes_refused_total", "blocked"))
}

// value returns the value of the counter or gauge name whose only label
// has the value label ("" for none).
func value(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || (len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() == label) {
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s{%q}", name, label)
	return -1
}

// brokenStore fails every operation.
type brokenStore struct{}

var errDown = errors.New("connection refused")

func (brokenStore) Hit(context.Context, []core.Key, time.Time, core.Policy, []core.Counter) (bool, error) {
	return false, errDown
}
func (brokenStore) Release(context.Context, []core.Key, time.Time, core.Policy) error { return errDown }
func (brokenStore) Peek(context.Context, []core.Key, time.Time, core.Policy, []core.Counter) error {
	return errDown
}
func (brokenStore) Clear(context.Context, []core.Key) error         { return errDown }
func (brokenStore) Reset(context.Context, core.Filter) (int, error) { return 0, errDown }

func TestStoreErrorsAndFailOpen(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		failOpen                 bool
		unavailable, open, fopen string
	}{
		{"fail closed", false, "3", "0", "0"},
		{"fail open", true, "0", "3", "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			m, err := axesprom.New(reg, axesprom.Options{})
			require.NoError(t, err)
			cfg := core.DefaultConfig()
			cfg.Logger = discard()
			cfg.FailOpen = tc.failOpen
			cfg.Events = m
			cfg.Store = axesprom.InstrumentStore(brokenStore{}, m)
			e, err := core.New(cfg)
			require.NoError(t, err)
			ctx := context.Background()
			for range 2 {
				a := e.Begin(ctx, req("192.0.2.1", "alice"))
				a.Fail(ctx)
			}
			e.Status(ctx, req("192.0.2.1", "alice")) // a peek error: not a decision that let anyone through

			want := `
# HELP axes_store_errors_total Store failures, by the policy that applied: unavailable (fail closed) or failed_open.
# TYPE axes_store_errors_total counter
axes_store_errors_total{policy="failed_open"} ` + tc.open + `
axes_store_errors_total{policy="unavailable"} ` + tc.unavailable + `
# HELP axes_fail_open_total Login attempts let through uncounted because the store failed (AXES_FAIL_OPEN).
# TYPE axes_fail_open_total counter
axes_fail_open_total ` + tc.fopen + `
`
			require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "axes_store_errors_total", "axes_fail_open_total"))
			require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP axes_store_operation_errors_total Store operations that returned an error, by operation.
# TYPE axes_store_operation_errors_total counter
axes_store_operation_errors_total{op="hit"} 2
axes_store_operation_errors_total{op="peek"} 1
axes_store_operation_errors_total{op="release"} 0
axes_store_operation_errors_total{op="clear"} 0
axes_store_operation_errors_total{op="reset"} 0
axes_store_operation_errors_total{op="record_failure"} 0
axes_store_operation_errors_total{op="record_login"} 0
axes_store_operation_errors_total{op="record_logout"} 0
axes_store_operation_errors_total{op="attempts"} 0
axes_store_operation_errors_total{op="access_logs"} 0
axes_store_operation_errors_total{op="failure_logs"} 0
axes_store_operation_errors_total{op="delete_access_logs"} 0
axes_store_operation_errors_total{op="delete_failure_logs"} 0
`), "axes_store_operation_errors_total"))
		})
	}
}

func TestInstrumentStoreKeepsRecordStore(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := axesprom.New(reg, axesprom.Options{})
	require.NoError(t, err)

	mem := core.NewMemoryStore(core.MemoryOptions{})
	s := axesprom.InstrumentStore(mem, m)
	_, ok := s.(core.RecordStore)
	assert.True(t, ok, "a memory store keeps records, and so does its instrumented store")
	assert.Same(t, core.Store(mem), s.(interface{ Unwrap() core.Store }).Unwrap())

	s = axesprom.InstrumentStore(brokenStore{}, m)
	_, ok = s.(core.RecordStore)
	assert.False(t, ok, "a store without records gains none")

	s = axesprom.InstrumentStore(nil, m)
	_, ok = s.(interface{ Unwrap() core.Store }).Unwrap().(*core.MemoryStore)
	assert.True(t, ok, "nil: a memory store, as the engine's default")
}

func TestNewRefusesADuplicateRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := axesprom.New(reg, axesprom.Options{})
	require.NoError(t, err)
	_, err = axesprom.New(reg, axesprom.Options{})
	assert.Error(t, err, "the same names twice")
	_, err = axesprom.New(reg, axesprom.Options{Namespace: "login"})
	assert.NoError(t, err, "another namespace")
	_, err = axesprom.New(nil, axesprom.Options{})
	assert.Error(t, err)
}

func TestLockedClients(t *testing.T) {
	e, m, reg, clk := setup(t, nil)
	require.NoError(t, m.WatchLockedClients(e, axesprom.LockedClientsOptions{Every: time.Nanosecond}))
	ctx := context.Background()
	gauge := func() float64 { t.Helper(); return value(t, reg, "axes_locked_clients", "") }
	assert.Equal(t, 0.0, gauge())
	for range 3 {
		e.ReportFailure(ctx, req("192.0.2.1", "alice"))
	}
	e.ReportFailure(ctx, req("192.0.2.1", "bob")) // refused: the IP is locked; same client
	e.ReportFailure(ctx, req("192.0.2.2", "carol"))
	assert.Equal(t, 1.0, gauge(), "one IP locked, one not yet")
	for range 2 {
		e.ReportFailure(ctx, req("192.0.2.2", "carol"))
	}
	assert.Equal(t, 2.0, gauge())
	clk.now = clk.now.Add(31 * time.Minute)
	assert.Equal(t, 0.0, gauge(), "the cool-off ran out")

	_, err := e.ResetAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0.0, gauge())
}

func TestLockedClientsNeedsRecords(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := axesprom.New(reg, axesprom.Options{})
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.Store = axesprom.InstrumentStore(brokenStore{}, m)
	e, err := core.New(cfg)
	require.NoError(t, err)
	assert.ErrorIs(t, m.WatchLockedClients(e, axesprom.LockedClientsOptions{}), axesprom.ErrNoRecords)
}
