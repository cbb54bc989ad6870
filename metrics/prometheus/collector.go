// Package axesprom exports axes' events and store latency as Prometheus
// metrics through github.com/prometheus/client_golang, so that core stays
// free of it.
//
// A Collector is a core.EventHandler: chain it with your own handlers in
// Config.Events. InstrumentStore times every store operation; and
// Collector.WatchLockedClients adds a gauge of the clients locked out now.
//
//	reg := prometheus.NewRegistry()
//	m, err := axesprom.New(reg, axesprom.Options{})
//	cfg := core.DefaultConfig()
//	cfg.Events = core.Events{m, myHook}
//	cfg.Store = axesprom.InstrumentStore(store, m)
//	engine, err := core.New(cfg)
//	m.WatchLockedClients(engine, axesprom.LockedClientsOptions{})
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every metric is named axes_* (Options.Namespace changes the prefix):
//
//	axes_login_failures_total                  failures recorded (user_login_failed)
//	axes_lockouts_total                        failures that locked a client out (user_locked_out)
//	axes_refused_total{reason}                 attempts refused before the credentials were checked:
//	                                           locked, blocked (blacklist, only-whitelist), unknown_client
//	axes_logins_total                          successful logins
//	axes_logouts_total                         logouts
//	axes_resets_total{kind}                    resets: all, ip, username, ip_username, ip_or_username
//	axes_reset_attempts_removed_total{kind}    attempt records those resets removed
//	axes_store_errors_total{policy}            store failures, by the policy that applied:
//	                                           unavailable (fail closed, 503) or failed_open
//	axes_fail_open_total                       attempts let through uncounted because the store failed
//	axes_store_operation_duration_seconds{op}  store latency (InstrumentStore)
//	axes_store_operation_errors_total{op}      store errors by operation (InstrumentStore)
//	axes_locked_clients                        clients locked out now (WatchLockedClients)
//
// No metric has a username or an IP address as a label: labels only take
// the few values listed above, so an attacker cannot grow the number of
// series.
package axesprom

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goaxes/axes/core"
)

// Options configure a Collector. The zero Options are the defaults.
type Options struct {
	// Namespace prefixes every metric name. Default: "axes".
	Namespace string
	// ConstLabels are added to every metric (an instance or app name, say).
	// Never put a username or an IP address there.
	ConstLabels prometheus.Labels
	// Buckets of the store latency histogram, in seconds. Default: from
	// 100µs to 2.5s, enough for memory, SQLite, Redis and PostgreSQL.
	Buckets []float64
}

// DefaultBuckets are the store latency buckets, in seconds.
var DefaultBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Collector counts axes' events. It implements core.EventHandler and
// prometheus.Collector and is safe for concurrent use.
type Collector struct {
	ns string

	failures, lockouts, logins, logouts, failOpen prometheus.Counter
	refused, resets, removed, storeErrors         *prometheus.CounterVec
	opDuration                                    *prometheus.HistogramVec
	opErrors                                      *prometheus.CounterVec

	lockedDesc *prometheus.Desc
	mu         sync.Mutex
	locked     *lockedClients // nil until WatchLockedClients
}

var (
	_ core.EventHandler    = (*Collector)(nil)
	_ prometheus.Collector = (*Collector)(nil)
)

// The values that label each labelled counter, created at zero so that
// rate() and alerts see them before the first event.
var (
	refusedReasons = []string{core.Locked.String(), core.Blocked.String(), core.UnknownClient.String()}
	resetKinds     = []string{"all", "ip", "username", "ip_username", "ip_or_username"}
	storePolicies  = []string{core.Unavailable.String(), core.FailedOpen.String()}
)

// New returns a Collector registered with reg. It fails when reg already
// holds metrics of the same names (use another Namespace or ConstLabels).
func New(reg prometheus.Registerer, opts Options) (*Collector, error) {
	if reg == nil {
		return nil, errors.New("axes: axesprom: nil Registerer")
	}
	ns := opts.Namespace
	if ns == "" {
		ns = "axes"
	}
	buckets := opts.Buckets
	if len(buckets) == 0 {
		buckets = DefaultBuckets
	}
	cl := opts.ConstLabels
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help, ConstLabels: cl})
	}
	vec := func(name, help, label string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help, ConstLabels: cl}, []string{label})
	}
	c := &Collector{
		ns:          ns,
		failures:    counter("login_failures_total", "Login failures recorded (django-axes' user_login_failed)."),
		lockouts:    counter("lockouts_total", "Login failures that locked a client out (django-axes' user_locked_out)."),
		logins:      counter("logins_total", "Successful logins."),
		logouts:     counter("logouts_total", "Logouts."),
		failOpen:    counter("fail_open_total", "Login attempts let through uncounted because the store failed (AXES_FAIL_OPEN)."),
		refused:     vec("refused_total", "Login attempts refused before the credentials were checked, by reason: locked, blocked, unknown_client.", "reason"),
		resets:      vec("resets_total", "Resets of lockouts, by what they selected.", "kind"),
		removed:     vec("reset_attempts_removed_total", "Attempt records removed by resets.", "kind"),
		storeErrors: vec("store_errors_total", "Store failures, by the policy that applied: unavailable (fail closed) or failed_open.", "policy"),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "store_operation_duration_seconds",
			Help: "Duration of axes store operations, by operation.", ConstLabels: cl, Buckets: buckets}, []string{"op"}),
		opErrors: vec("store_operation_errors_total", "Store operations that returned an error, by operation.", "op"),
		lockedDesc: prometheus.NewDesc(prometheus.BuildFQName(ns, "", "locked_clients"),
			"Clients locked out now, counted over the newest attempt records (refreshed every few seconds).", nil, cl),
	}
	for _, r := range refusedReasons {
		c.refused.WithLabelValues(r)
	}
	for _, k := range resetKinds {
		c.resets.WithLabelValues(k)
		c.removed.WithLabelValues(k)
	}
	for _, p := range storePolicies {
		c.storeErrors.WithLabelValues(p)
	}
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Collector) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.failures, c.lockouts, c.logins, c.logouts, c.failOpen,
		c.refused, c.resets, c.removed, c.storeErrors, c.opDuration, c.opErrors}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.collectors() {
		m.Describe(ch)
	}
	ch <- c.lockedDesc
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.collectors() {
		m.Collect(ch)
	}
	c.mu.Lock()
	l := c.locked
	c.mu.Unlock()
	if l != nil {
		if n, ok := l.value(); ok {
			ch <- prometheus.MustNewConstMetric(c.lockedDesc, prometheus.GaugeValue, float64(n))
		}
	}
}

// HandleEvent counts ev. It never blocks and never looks at the username or
// the IP address.
func (c *Collector) HandleEvent(_ context.Context, ev core.Event) {
	switch ev.Kind {
	case core.EventLoginFailed:
		c.failures.Inc()
	case core.EventLockedOut:
		c.lockouts.Inc()
	case core.EventLoggedIn:
		c.logins.Inc()
	case core.EventLoggedOut:
		c.logouts.Inc()
	case core.EventRefused:
		c.refused.WithLabelValues(known(ev.Outcome.String(), refusedReasons)).Inc()
	case core.EventReset:
		kind := known(ev.ResetKind, resetKinds)
		c.resets.WithLabelValues(kind).Inc()
		c.removed.WithLabelValues(kind).Add(float64(ev.Removed))
	case core.EventStoreError:
		c.storeErrors.WithLabelValues(known(ev.Outcome.String(), storePolicies)).Inc()
		if ev.Outcome == core.FailedOpen && ev.Op == "hit" {
			c.failOpen.Inc()
		}
	}
}

// known returns v when it is one of values, else "other": a label never
// takes a value outside a fixed list.
func known(v string, values []string) string {
	for _, k := range values {
		if v == k {
			return v
		}
	}
	return "other"
}
