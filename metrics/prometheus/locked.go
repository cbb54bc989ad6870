package axesprom

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/goaxes/axes/core"
)

// LockedClientsOptions configure WatchLockedClients. Zero fields take
// their defaults.
type LockedClientsOptions struct {
	// Every is how long a count is reused before it is taken again.
	// Default: 15s.
	Every time.Duration
	// MaxRecords caps the attempt records read per count, newest first.
	// Default: 1000. Clients locked behind older records are not counted.
	MaxRecords int
	// Timeout bounds one count. Default: 5s.
	Timeout time.Duration
}

// ErrNoRecords is returned by WatchLockedClients for an engine whose store
// keeps no attempt records.
var ErrNoRecords = errors.New("axes: axesprom: the store keeps no attempt records")

// WatchLockedClients adds the gauge axes_locked_clients: the clients locked
// out now. A count reads the newest attempt records (core.RecordStore)
// and asks e.Status of each one's client, changing nothing; clients are
// told apart by the lockout parameters' fields (with ip_address alone, two
// records of one IP are one client). It runs during a scrape at most once
// per opts.Every, so it costs one listing and one Peek per record every
// few seconds. It fails with ErrNoRecords when e's store keeps no records.
// A count that fails leaves the gauge out of that scrape.
func (c *Collector) WatchLockedClients(e *core.Engine, opts LockedClientsOptions) error {
	records, ok := e.Records()
	if !ok {
		return ErrNoRecords
	}
	if opts.Every <= 0 {
		opts.Every = 15 * time.Second
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = 1000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	var fields core.Param
	cfg := e.Config()
	if cfg.LockoutParametersFunc != nil {
		fields = core.ParamIPAddress | core.ParamUsername | core.ParamUserAgent
	} else {
		for _, p := range cfg.LockoutParameters {
			fields |= p
		}
	}
	c.mu.Lock()
	c.locked = &lockedClients{e: e, records: records, opts: opts, fields: fields}
	c.mu.Unlock()
	return nil
}

// lockedClients counts the locked clients, caching the count.
type lockedClients struct {
	e       *core.Engine
	records core.RecordStore
	opts    LockedClientsOptions
	fields  core.Param

	mu    sync.Mutex // one count at a time; scrapes wait for it
	at    time.Time
	n     int
	valid bool
}

func (l *lockedClients) value() (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.at.IsZero() && time.Since(l.at) < l.opts.Every {
		return l.n, l.valid
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.Timeout)
	defer cancel()
	n, err := l.count(ctx)
	l.at, l.n, l.valid = time.Now(), n, err == nil
	return l.n, l.valid
}

func (l *lockedClients) count(ctx context.Context) (int, error) {
	rows, _, err := l.records.Attempts(ctx, core.ListQuery{Sort: "last_attempt", Limit: l.opts.MaxRecords})
	if err != nil {
		return 0, err
	}
	type client struct{ ip, username, userAgent string }
	seen := map[client]bool{}
	for _, r := range rows {
		k := client{}
		if l.fields.Has(core.ParamIPAddress) {
			k.ip = r.IP
		}
		if l.fields.Has(core.ParamUsername) {
			k.username = r.Username
		}
		if l.fields.Has(core.ParamUserAgent) {
			k.userAgent = r.UserAgent
		}
		if _, done := seen[k]; done {
			continue
		}
		d := l.e.Status(ctx, r.StatusRequest())
		if d.Err != nil {
			return 0, d.Err
		}
		seen[k] = d.Outcome == core.Locked
	}
	n := 0
	for _, locked := range seen {
		if locked {
			n++
		}
	}
	return n, nil
}
