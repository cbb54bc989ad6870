package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/visible"
)

// listed is one attempt record with its status, as --json prints it.
type listed struct {
	IP           string     `json:"ip"`
	Username     string     `json:"username"`
	UserAgent    string     `json:"user_agent"`
	Path         string     `json:"path"`
	Failures     int        `json:"failures"`
	FirstAttempt time.Time  `json:"first_attempt"`
	LastAttempt  time.Time  `json:"last_attempt"`
	Status       string     `json:"status"`
	Locked       bool       `json:"locked"`
	LockedUntil  *time.Time `json:"locked_until"`
	AttemptsLeft *int       `json:"attempts_left"`
}

const listPage = 500

func (c *cli) list(args []string) error {
	fs := c.flags(c.cmd)
	asJSON := fs.Bool("json", false, "print JSON")
	search := fs.String("search", "", "keep rows whose IP, username, user agent or path contains this")
	onlyLocked := fs.Bool("locked", false, "only locked clients")
	limit := fs.Int("limit", 0, "at most this many rows (0: all)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (list takes flags only: --json, --search TEXT, --locked, --limit N)", pos[0])
	}
	if *limit < 0 {
		return usagef("--limit %d: want 0 (all) or more", *limit)
	}
	ctx := context.Background()
	s, rs, err := c.openRecords(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var rows []listed
	q := core.ListQuery{Search: *search, Sort: "last_attempt", Limit: listPage}
	for {
		recs, _, err := rs.Attempts(ctx, q)
		if err != nil {
			return s.storeErr(err)
		}
		for _, r := range recs {
			row, err := status(ctx, s.engine, r)
			if err != nil {
				return s.storeErr(err)
			}
			if *onlyLocked && !row.Locked {
				continue
			}
			rows = append(rows, row)
			if *limit > 0 && len(rows) == *limit {
				break
			}
		}
		if len(recs) < listPage || (*limit > 0 && len(rows) >= *limit) {
			break
		}
		q.Offset += listPage
	}
	if *asJSON {
		if rows == nil {
			rows = []listed{}
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(c.stdout, "No attempts found.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IP\tUSERNAME\tUSER AGENT\tFAILURES\tLAST ATTEMPT\tLOCKED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n",
			printable(r.IP, 45), printable(r.Username, 32), printable(r.UserAgent, 40),
			r.Failures, r.LastAttempt.UTC().Format("2006-01-02 15:04:05"), r.Status)
	}
	return tw.Flush()
}

// status asks the engine what a request from the record's client would get
// now: the status follows the app's settings (AXES_FAILURE_LIMIT, cool-off,
// lockout parameters).
func status(ctx context.Context, e *core.Engine, r core.AttemptRecord) (listed, error) {
	row := listed{
		IP: r.IP, Username: r.Username, UserAgent: r.UserAgent, Path: r.Path,
		Failures: r.Failures, FirstAttempt: r.FirstAttempt.UTC(), LastAttempt: r.LastAttempt.UTC(),
	}
	d := e.Status(ctx, r.StatusRequest())
	if d.Err != nil {
		return row, d.Err
	}
	switch d.Outcome {
	case core.Locked:
		row.Locked = true
		if d.LockedUntil.IsZero() {
			row.Status = "yes, until reset"
		} else {
			t := d.LockedUntil.UTC()
			row.LockedUntil = &t
			row.Status = "yes, until " + t.Format("2006-01-02 15:04:05") + " UTC"
		}
	case core.Exempt:
		row.Status = "no (exempt)"
	case core.Blocked:
		row.Status = "no (blacklisted: always refused)"
	case core.UnknownClient:
		row.Status = "unknown (no valid IP)"
	default:
		if left := d.AttemptsLeft(); left >= 0 {
			row.AttemptsLeft = &left
			row.Status = "no (" + strconv.Itoa(left) + " left)"
		} else {
			row.Status = "no"
		}
	}
	return row, nil
}

// printable makes attacker-controlled text safe for a terminal: control and
// format characters (escape sequences, bidi overrides) are shown escaped,
// invalid UTF-8 as U+FFFD, and the text is cut at max runes (as the admin
// page shows it, without the cut). Empty is "-".
func printable(s string, max int) string {
	if s == "" {
		return "-"
	}
	return visible.String(core.StoreUnescape(s), max)
}
