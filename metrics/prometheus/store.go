package axesprom

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goaxes/axes/core"
)

// The op label values of the store metrics.
var storeOps = []string{"hit", "release", "peek", "clear", "reset",
	"record_failure", "record_login", "record_logout", "attempts", "access_logs", "failure_logs",
	"delete_access_logs", "delete_failure_logs"}

// InstrumentStore returns s with every operation timed into c's histogram
// axes_store_operation_duration_seconds{op} and its errors counted in
// axes_store_operation_errors_total{op}. When s is also a core.RecordStore
// (the memory, SQLite, PostgreSQL and Redis stores are), so is the returned
// store, so the admin page, the CLI and the records keep working. Unwrap
// returns s. A nil s is a new memory store (the engine's default). The
// returned store is safe for concurrent use when s is; it closes nothing:
// close s yourself.
func InstrumentStore(s core.Store, c *Collector) core.Store {
	if s == nil {
		s = core.NewMemoryStore(core.MemoryOptions{})
	}
	is := &instrumented{s: s, ops: map[string]opMetrics{}}
	for _, op := range storeOps {
		is.ops[op] = opMetrics{c.opDuration.WithLabelValues(op), c.opErrors.WithLabelValues(op)}
	}
	is.hit, is.release, is.peek = is.ops["hit"], is.ops["release"], is.ops["peek"]
	if r, ok := s.(core.RecordStore); ok {
		return &instrumentedRecords{instrumented: is, r: r}
	}
	return is
}

type opMetrics struct {
	duration prometheus.Observer
	errors   prometheus.Counter
}

func (m opMetrics) done(start time.Time, err error) {
	m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		m.errors.Inc()
	}
}

// instrumented times a core.Store.
type instrumented struct {
	s                  core.Store
	ops                map[string]opMetrics
	hit, release, peek opMetrics // the hot path, without a map lookup
}

var (
	_ core.Store       = (*instrumented)(nil)
	_ core.Store       = (*instrumentedRecords)(nil)
	_ core.RecordStore = (*instrumentedRecords)(nil)
)

// Unwrap returns the instrumented store.
func (s *instrumented) Unwrap() core.Store { return s.s }

func (s *instrumented) Hit(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, out []core.Counter) (bool, error) {
	start := time.Now()
	locked, err := s.s.Hit(ctx, keys, now, p, out)
	s.hit.done(start, err)
	return locked, err
}

func (s *instrumented) Release(ctx context.Context, keys []core.Key, now time.Time, p core.Policy) error {
	start := time.Now()
	err := s.s.Release(ctx, keys, now, p)
	s.release.done(start, err)
	return err
}

func (s *instrumented) Peek(ctx context.Context, keys []core.Key, now time.Time, p core.Policy, out []core.Counter) error {
	start := time.Now()
	err := s.s.Peek(ctx, keys, now, p, out)
	s.peek.done(start, err)
	return err
}

func (s *instrumented) Clear(ctx context.Context, keys []core.Key) error {
	start := time.Now()
	err := s.s.Clear(ctx, keys)
	s.ops["clear"].done(start, err)
	return err
}

func (s *instrumented) Reset(ctx context.Context, f core.Filter) (int, error) {
	start := time.Now()
	n, err := s.s.Reset(ctx, f)
	s.ops["reset"].done(start, err)
	return n, err
}

// instrumentedRecords times a store that is also a core.RecordStore.
type instrumentedRecords struct {
	*instrumented
	r core.RecordStore
}

func (s *instrumentedRecords) RecordFailure(ctx context.Context, rec core.AttemptRecord, failureLog, lockedOut bool, perUser int) error {
	start := time.Now()
	err := s.r.RecordFailure(ctx, rec, failureLog, lockedOut, perUser)
	s.ops["record_failure"].done(start, err)
	return err
}

func (s *instrumentedRecords) RecordLogin(ctx context.Context, log core.AccessLog) error {
	start := time.Now()
	err := s.r.RecordLogin(ctx, log)
	s.ops["record_login"].done(start, err)
	return err
}

func (s *instrumentedRecords) RecordLogout(ctx context.Context, username, ip string, at time.Time) error {
	start := time.Now()
	err := s.r.RecordLogout(ctx, username, ip, at)
	s.ops["record_logout"].done(start, err)
	return err
}

func (s *instrumentedRecords) Attempts(ctx context.Context, q core.ListQuery) ([]core.AttemptRecord, int, error) {
	start := time.Now()
	rows, n, err := s.r.Attempts(ctx, q)
	s.ops["attempts"].done(start, err)
	return rows, n, err
}

func (s *instrumentedRecords) AccessLogs(ctx context.Context, q core.ListQuery) ([]core.AccessLog, int, error) {
	start := time.Now()
	rows, n, err := s.r.AccessLogs(ctx, q)
	s.ops["access_logs"].done(start, err)
	return rows, n, err
}

func (s *instrumentedRecords) FailureLogs(ctx context.Context, q core.ListQuery) ([]core.FailureLog, int, error) {
	start := time.Now()
	rows, n, err := s.r.FailureLogs(ctx, q)
	s.ops["failure_logs"].done(start, err)
	return rows, n, err
}

func (s *instrumentedRecords) DeleteAccessLogs(ctx context.Context, before time.Time) (int, error) {
	start := time.Now()
	n, err := s.r.DeleteAccessLogs(ctx, before)
	s.ops["delete_access_logs"].done(start, err)
	return n, err
}

func (s *instrumentedRecords) DeleteFailureLogs(ctx context.Context, before time.Time) (int, error) {
	start := time.Now()
	n, err := s.r.DeleteFailureLogs(ctx, before)
	s.ops["delete_failure_logs"].done(start, err)
	return n, err
}
