package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goaxes/axes/core"
)

// logKind is one of the two log tables that reset-logs and
// reset-failure-logs prune.
type logKind struct {
	name string // for progress lines
	// oldest returns the number of rows and the time of the oldest one.
	oldest func(ctx context.Context, rs core.RecordStore) (int, time.Time, error)
	del    func(ctx context.Context, rs core.RecordStore, before time.Time) (int, error)
}

var accessLogs = logKind{
	name: "access logs",
	oldest: func(ctx context.Context, rs core.RecordStore) (int, time.Time, error) {
		rows, total, err := rs.AccessLogs(ctx, core.ListQuery{Sort: "login_time", Asc: true, Limit: 1})
		if err != nil || len(rows) == 0 {
			return total, time.Time{}, err
		}
		return total, rows[0].LoginTime, nil
	},
	del: func(ctx context.Context, rs core.RecordStore, before time.Time) (int, error) {
		return rs.DeleteAccessLogs(ctx, before)
	},
}

var failureLogs = logKind{
	name: "failure logs",
	oldest: func(ctx context.Context, rs core.RecordStore) (int, time.Time, error) {
		rows, total, err := rs.FailureLogs(ctx, core.ListQuery{Sort: "time", Asc: true, Limit: 1})
		if err != nil || len(rows) == 0 {
			return total, time.Time{}, err
		}
		return total, rows[0].Time, nil
	},
	del: func(ctx context.Context, rs core.RecordStore, before time.Time) (int, error) {
		return rs.DeleteFailureLogs(ctx, before)
	},
}

// parseAge reads --age: a Go duration (12h, 90m), days with a "d" suffix
// (30d, 1.5d) or a bare number of days (django-axes' --age 30).
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	days := strings.TrimSuffix(s, "d")
	if f, err := strconv.ParseFloat(days, 64); err == nil && days != "" {
		if f < 0 || f > 1e5 {
			return 0, usagef("--age %q: want a number of days between 0 and 100000", s)
		}
		return time.Duration(f * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, usagef("--age %q: want a duration such as 30d, 12h or 90m", s)
	}
	if d < 0 {
		return 0, usagef("--age %q: want a duration >= 0", s)
	}
	return d, nil
}

// progressMin is the table size from which a prune on a terminal goes in
// steps and reports them.
const progressMin = 10_000

func (c *cli) pruneCmd(args []string, kind logKind) error {
	fs := c.flags(c.cmd)
	age := fs.String("age", "30d", "remove rows older than this")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (use --age D, as in --age %s)", pos[0], pos[0])
	}
	d, err := parseAge(*age)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, rs, err := c.openRecords(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var before time.Time // zero: everything (--age 0)
	if d > 0 {
		before = s.engine.Now().Add(-d)
	}
	n, err := c.prune(ctx, rs, kind, before, s.engine.Now())
	if err != nil {
		return s.storeErr(err)
	}
	if n == 0 {
		fmt.Fprintln(c.stdout, "No logs found.")
	} else {
		fmt.Fprintf(c.stdout, "%d logs removed.\n", n)
	}
	return nil
}

// prune deletes the rows older than before (all when before is zero). On a
// terminal, a large table is pruned in time slices from its oldest row on,
// with a progress line; otherwise in one call.
func (c *cli) prune(ctx context.Context, rs core.RecordStore, kind logKind, before, now time.Time) (int, error) {
	if !c.progress {
		return kind.del(ctx, rs, before)
	}
	total, oldest, err := kind.oldest(ctx, rs)
	if err != nil {
		return 0, err
	}
	end := before
	if end.IsZero() {
		end = now.Add(time.Second)
	}
	if total < progressMin || oldest.IsZero() || !oldest.Before(end) {
		return kind.del(ctx, rs, before)
	}
	const steps = 50
	span := end.Sub(oldest)
	removed := 0
	for i := 1; i < steps; i++ {
		n, err := kind.del(ctx, rs, oldest.Add(span*time.Duration(i)/steps))
		removed += n
		if err != nil {
			fmt.Fprintln(c.stdout)
			return removed, err
		}
		fmt.Fprintf(c.stdout, "\rremoving %s: %3d%% (%d removed)", kind.name, i*100/steps, removed)
	}
	n, err := kind.del(ctx, rs, before)
	removed += n
	fmt.Fprint(c.stdout, "\r\033[K")
	return removed, err
}
