package admin

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goaxes/axes/core"
)

// ranges are the overview's time windows: the window and its bucket.
var ranges = []struct {
	Name           string
	Window, Bucket time.Duration
}{
	{"24h", 24 * time.Hour, time.Hour},
	{"7d", 7 * 24 * time.Hour, 6 * time.Hour},
	{"30d", 30 * 24 * time.Hour, 24 * time.Hour},
}

// Bounds of the overview's reads.
const (
	overviewRecords = 10_000  // attempt records read for the top lists
	overviewStatus  = 2_000   // records whose status is asked (one store call each)
	overviewLogs    = 100_000 // failure log rows read for the chart
	logPage         = 1_000
)

type top struct {
	Name     string `json:"name"`
	Failures int    `json:"failures"`
	Link     string `json:"-"`
	Bar      int    `json:"-"` // width of the bar, 0..100
}

type series struct {
	Start    time.Time `json:"start"`
	Bucket   string    `json:"bucket"`
	Failures []int     `json:"failures"`
	Lockouts []int     `json:"lockouts"`
	// Source is "failure_log" (every failure) or "attempts" (each
	// record's last failure, when the failure log is off or empty).
	Source string `json:"source"`
}

type overviewBody struct {
	LockedNow      int    `json:"locked_now"`
	LockedScanned  int    `json:"locked_of"`
	Records        int    `json:"records"`
	Failures       int    `json:"failures_in_range"`
	Lockouts       int    `json:"lockouts_in_range"`
	Range          string `json:"range"`
	Series         series `json:"series"`
	TopIPs         []top  `json:"top_ips"`
	TopUsernames   []top  `json:"top_usernames"`
	Chart          chart  `json:"-"`
	Ranges         []top  `json:"-"`
	FailureLogOn   bool   `json:"failure_log_enabled"`
	LockedLink     string `json:"-"`
	FailureLimit   int    `json:"failure_limit"`
	CoolOff        string `json:"cooloff"`
	LockoutParams  string `json:"lockout_parameters"`
	StoreKeepsLogs bool   `json:"-"`
}

func (rq *request) overview() {
	e := rq.h.engine
	cfg := e.Config()
	now := e.Now().UTC()
	rg := ranges[0]
	for _, r := range ranges {
		if r.Name == rq.r.URL.Query().Get("range") {
			rg = r
		}
	}
	body := overviewBody{
		Range: rg.Name, FailureLogOn: cfg.EnableAccessFailureLog, LockedLink: "attempts?status=locked",
		FailureLimit: cfg.FailureLimit, CoolOff: "until reset", LockoutParams: core.FormatLockoutParameters(cfg.LockoutParameters),
	}
	if cfg.CoolOff > 0 {
		body.CoolOff = shortDuration(cfg.CoolOff)
	}
	for _, r := range ranges {
		body.Ranges = append(body.Ranges, top{Name: r.Name, Link: "?range=" + r.Name, Bar: boolInt(r.Name == rg.Name)})
	}
	n := int(rg.Window / rg.Bucket)
	start := now.Truncate(rg.Bucket).Add(-time.Duration(n-1) * rg.Bucket)
	body.Series = series{Start: start, Bucket: rg.Bucket.String(), Failures: make([]int, n), Lockouts: make([]int, n)}
	bucket := func(t time.Time) int {
		if t.Before(start) {
			return -1
		}
		return min(int(t.Sub(start)/rg.Bucket), n-1)
	}
	rs, ok := e.Records()
	body.StoreKeepsLogs = ok
	if ok {
		recs, total, err := rs.Attempts(rq.ctx(), core.ListQuery{Sort: "last_attempt", Limit: overviewRecords})
		if err != nil {
			rq.fail(err)
			return
		}
		body.Records = total
		byIP, byUser := map[string]int{}, map[string]int{}
		lockedAt := make([]bool, len(recs))
		for i, rec := range recs {
			byIP[rec.IP] += rec.Failures
			if rec.Username != "" {
				byUser[rec.Username] += rec.Failures
			}
			if i < overviewStatus {
				body.LockedScanned++
				st, err := statusOf(rq.ctx(), e, rec)
				if err != nil {
					rq.fail(err)
					return
				}
				if st.Locked {
					body.LockedNow++
					lockedAt[i] = true
				}
			}
		}
		body.TopIPs = topOf(byIP, func(k string) string { return "attempts?ip=" + url.QueryEscape(k) })
		body.TopUsernames = topOf(byUser, func(k string) string { return "attempts?username=" + url.QueryEscape(core.StoreUnescape(k)) })

		// The chart: every failure from the failure log, else each record's
		// last failure.
		body.Series.Source = "attempts"
		q := core.ListQuery{Sort: "time", Limit: logPage}
	logs:
		for q.Offset < overviewLogs {
			rows, _, err := rs.FailureLogs(rq.ctx(), q)
			if err != nil {
				rq.fail(err)
				return
			}
			for _, l := range rows {
				body.Series.Source = "failure_log"
				b := bucket(l.Time)
				if b < 0 {
					break logs
				}
				body.Series.Failures[b]++
				if l.LockedOut {
					body.Series.Lockouts[b]++
				}
			}
			if len(rows) < logPage {
				break
			}
			q.Offset += logPage
		}
		if body.Series.Source == "attempts" {
			for i, rec := range recs {
				if b := bucket(rec.LastAttempt); b >= 0 {
					body.Series.Failures[b]++
					if lockedAt[i] {
						body.Series.Lockouts[b]++
					}
				}
			}
		}
		for i := range n {
			body.Failures += body.Series.Failures[i]
			body.Lockouts += body.Series.Lockouts[i]
		}
	}
	if rq.wantsJSON() {
		rq.json(body)
		return
	}
	body.Chart = makeChart(body.Series, rg.Bucket)
	rq.render(http.StatusOK, "overview", body)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// topOf returns the ten names with the most failures.
func topOf(m map[string]int, link func(string) string) []top {
	out := make([]top, 0, len(m))
	for k, v := range m {
		out = append(out, top{Name: k, Failures: v})
	}
	slices.SortFunc(out, func(a, b top) int {
		return cmp.Or(cmp.Compare(b.Failures, a.Failures), cmp.Compare(a.Name, b.Name))
	})
	out = out[:min(len(out), 10)]
	for i := range out {
		out[i].Link = link(out[i].Name)
		if out[0].Failures > 0 {
			out[i].Bar = max(out[i].Failures*100/out[0].Failures, 1)
		}
	}
	return out
}

// chart is an SVG bar chart drawn on the server: numbers only, so the
// template escapes nothing but the labels.
type chart struct {
	Width, Height int
	Bars          []bar
	Grid          []gridLine
	Labels        []label
	Empty         bool
	Source        string
	Left, Bottom  int
}

type bar struct {
	X, Y, W, H int
	Class      string
	Title      string
}

type gridLine struct {
	Y     int
	Label string
}

type label struct {
	X    int
	Text string
}

func makeChart(s series, bucket time.Duration) chart {
	const width, height, left, right, top, bottom = 1200, 260, 44, 8, 10, 28
	c := chart{Width: width, Height: height, Left: left, Bottom: height - bottom, Source: s.Source}
	n := len(s.Failures)
	peak := 0
	for _, v := range s.Failures {
		peak = max(peak, v)
	}
	c.Empty = peak == 0
	peak = niceCeil(max(peak, 1))
	plotW, plotH := width-left-right, height-top-bottom
	slot := plotW / n
	y := func(v int) int { return top + plotH - v*plotH/peak }
	for i := 0; i <= 4; i++ {
		v := peak * i / 4
		c.Grid = append(c.Grid, gridLine{Y: y(v), Label: strconv.Itoa(v)})
	}
	layout := "15:04"
	if bucket >= 24*time.Hour {
		layout = "Jan 2"
	} else if bucket > time.Hour {
		layout = "Jan 2 15h"
	}
	every := max(n/8, 1)
	for i := range n {
		t := s.Start.Add(time.Duration(i) * bucket)
		x := left + i*slot
		w := max(slot*2/5, 2)
		f, l := s.Failures[i], s.Lockouts[i]
		when := t.Format("2006-01-02 15:04") + " UTC"
		c.Bars = append(c.Bars,
			bar{X: x + slot/10, Y: y(f), W: w, H: y(0) - y(f), Class: "bar-f", Title: when + ": " + strconv.Itoa(f) + " failures"},
			bar{X: x + slot/10 + w, Y: y(l), W: w, H: y(0) - y(l), Class: "bar-l", Title: when + ": " + strconv.Itoa(l) + " lockouts"})
		if i%every == 0 {
			c.Labels = append(c.Labels, label{X: x + slot/2, Text: t.Format(layout)})
		}
	}
	return c
}

// niceCeil rounds v up to four times a round step (1, 2 or 5 times a
// power of ten), so that the four grid lines fall on whole numbers.
func niceCeil(v int) int {
	need := (v + 3) / 4
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= need {
				return 4 * m * p
			}
		}
	}
}

// shortDuration spells d without zero units: 30m, 1h30m, 45s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
