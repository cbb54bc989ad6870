package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/goaxes/axes/core"
)

// request is one request being served.
type request struct {
	h     *handler
	w     http.ResponseWriter
	r     *http.Request
	nonce string
	token string
}

func (rq *request) ctx() context.Context { return rq.r.Context() }

func (rq *request) wantsJSON() bool { return rq.r.URL.Query().Get("format") == "json" }

// view is what every page template receives.
type view struct {
	Title   string
	Page    string // "overview", "attempts", "access-logs", "failure-logs", "confirm"
	Nonce   string
	CSRF    string
	Flash   string
	Error   string
	Records bool // the store keeps records
	Body    any
}

func (rq *request) render(status int, page string, body any) {
	v := view{Title: rq.h.opts.Title, Page: page, Nonce: rq.nonce, CSRF: rq.token, Body: body}
	_, v.Records = rq.h.engine.Records()
	q := rq.r.URL.Query()
	if n, err := strconv.Atoi(q.Get("removed")); err == nil && n >= 0 {
		if n == 0 {
			v.Flash = "No attempts found."
		} else {
			v.Flash = strconv.Itoa(n) + " attempts removed."
		}
	}
	if msg, ok := errorMessages[q.Get("error")]; ok {
		v.Error = msg
	}
	var buf bytes.Buffer
	if err := templates[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		plain(rq.w, http.StatusInternalServerError, "500 Internal Server Error: the page could not be rendered.")
		return
	}
	rq.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	rq.w.WriteHeader(status)
	_, _ = rq.w.Write(buf.Bytes())
}

// errorMessages are the fixed messages a redirect may name; nothing from
// the query string is shown as is.
var errorMessages = map[string]string{
	"ip":        "That is not an IP address. Nothing was reset.",
	"username":  "Give a username that is not blank once spaces and invisible characters (control and format characters such as U+200B) are removed. Nothing was reset.",
	"selected":  "Select at least one row.",
	"selection": "A selected row names no valid IP address and no username that is not blank. Nothing was reset.",
	"action":    "Unknown reset action.",
}

func (rq *request) json(v any) { rq.jsonStatus(http.StatusOK, v) }

func (rq *request) jsonStatus(status int, v any) {
	rq.w.Header().Set("Content-Type", "application/json")
	rq.w.WriteHeader(status)
	enc := json.NewEncoder(rq.w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fail answers a store error: 503 with the error's text (escaped).
func (rq *request) fail(err error) {
	msg := "The store failed: " + err.Error()
	if rq.wantsJSON() {
		rq.jsonStatus(http.StatusServiceUnavailable, map[string]string{"error": msg})
		return
	}
	rq.render(http.StatusServiceUnavailable, "error", msg)
}

// noRecords answers pages that need records on a store without them.
func (rq *request) noRecords() {
	if rq.wantsJSON() {
		rq.jsonStatus(http.StatusNotImplemented, map[string]string{"error": "the store keeps no records"})
		return
	}
	rq.render(http.StatusOK, "error", "This store keeps lockout counters but no attempt records or logs, so there is nothing to list. Reset lockouts with the axes CLI (axes reset-ip, axes reset-username).")
}

// params are the list parameters of a page's query string.
type params struct {
	Q, IP, Username, Status, Sort, Dir string
	Page                               int
}

func readParams(q url.Values, defSort string, sorts []string) params {
	p := params{Q: strings.TrimSpace(q.Get("q")), IP: strings.TrimSpace(q.Get("ip")), Username: q.Get("username"), Status: q.Get("status"), Sort: q.Get("sort"), Dir: q.Get("dir")}
	if p.Status != "locked" && p.Status != "unlocked" {
		p.Status = ""
	}
	ok := false
	for _, s := range sorts {
		ok = ok || s == p.Sort
	}
	if !ok {
		p.Sort = defSort
	}
	if p.Dir != "asc" {
		p.Dir = "desc"
	}
	p.Page, _ = strconv.Atoi(q.Get("page"))
	p.Page = max(p.Page, 1)
	return p
}

func (p params) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", p.Q)
	set("ip", p.IP)
	set("username", p.Username)
	set("status", p.Status)
	set("sort", p.Sort)
	set("dir", p.Dir)
	if p.Page > 1 {
		v.Set("page", strconv.Itoa(p.Page))
	}
	return v
}

// link is page?query with p changed by f.
func (p params) link(page string, f func(*params)) string {
	c := p
	f(&c)
	if q := c.values().Encode(); q != "" {
		return page + "?" + q
	}
	return page
}

func (p params) query(size int) core.ListQuery {
	return core.ListQuery{
		Filter: core.Filter{IP: p.IP, Username: p.Username},
		Search: p.Q, Sort: p.Sort, Asc: p.Dir == "asc",
		Offset: (p.Page - 1) * size, Limit: size,
	}
}

// column is a sortable column header.
type column struct {
	Label  string
	Link   string
	Active bool
	Asc    bool
}

func (p params) columns(page string, cols [][2]string) []column {
	out := make([]column, len(cols))
	for i, c := range cols {
		key, label := c[0], c[1]
		col := column{Label: label}
		if key != "" {
			col.Active = p.Sort == key
			col.Asc = col.Active && p.Dir == "asc"
			col.Link = p.link(page, func(n *params) {
				n.Sort, n.Page = key, 1
				n.Dir = "desc"
				if col.Active && p.Dir == "desc" {
					n.Dir = "asc"
				}
			})
		}
		out[i] = col
	}
	return out
}

// pager is the paging bar.
type pager struct {
	Page, Pages, Total, From, To int
	Prev, Next                   string
}

func (p params) pager(page string, total, size, shown int) pager {
	pg := pager{Page: p.Page, Total: total, Pages: max((total+size-1)/size, 1)}
	if shown > 0 {
		pg.From = (p.Page-1)*size + 1
		pg.To = pg.From + shown - 1
	}
	if p.Page > 1 {
		pg.Prev = p.link(page, func(n *params) { n.Page = p.Page - 1 })
	}
	if p.Page < pg.Pages {
		pg.Next = p.link(page, func(n *params) { n.Page = p.Page + 1 })
	}
	return pg
}

// status is an attempt's lockout status as the app would decide it now.
type status struct {
	Locked       bool       `json:"locked"`
	LockedUntil  *time.Time `json:"locked_until"`
	AttemptsLeft *int       `json:"attempts_left"`
	Text         string     `json:"status"`
	Class        string     `json:"-"`
}

func statusOf(ctx context.Context, e *core.Engine, rec core.AttemptRecord) (status, error) {
	d := e.Status(ctx, rec.StatusRequest())
	if d.Err != nil {
		return status{Text: "unknown", Class: "muted"}, d.Err
	}
	var s status
	switch d.Outcome {
	case core.Locked:
		s.Locked, s.Class = true, "locked"
		if d.LockedUntil.IsZero() {
			s.Text = "Locked until reset"
		} else {
			t := d.LockedUntil.UTC()
			s.LockedUntil = &t
			s.Text = "Locked until " + t.Format("2006-01-02 15:04:05") + " UTC"
		}
	case core.Exempt:
		s.Text, s.Class = "Exempt", "muted"
	case core.Blocked:
		s.Text, s.Class = "Blacklisted", "locked"
	case core.UnknownClient:
		s.Text, s.Class = "No valid IP", "muted"
	default:
		s.Class = "ok"
		if left := d.AttemptsLeft(); left >= 0 {
			s.AttemptsLeft = &left
			if left == 1 {
				s.Text = "1 attempt left"
			} else {
				s.Text = strconv.Itoa(left) + " attempts left"
			}
		} else {
			s.Text = "Not locked"
		}
	}
	return s, nil
}

// attemptRow is one attempt record on the page.
type attemptRow struct {
	IP           string    `json:"ip"`
	Username     string    `json:"username"`
	UserAgent    string    `json:"user_agent"`
	Path         string    `json:"path"`
	Accept       string    `json:"accept"`
	GetData      string    `json:"get_data"`
	PostData     string    `json:"post_data"`
	Failures     int       `json:"failures"`
	FirstAttempt time.Time `json:"first_attempt"`
	LastAttempt  time.Time `json:"last_attempt"`
	status
	// Select is the checkbox value that names the row for a reset.
	Select string `json:"-"`
	// UsernameFilter is the username as the client sent it
	// (core.StoreUnescape): the value of a filter link.
	UsernameFilter string `json:"-"`
}

type attemptsBody struct {
	P       params
	Rows    []attemptRow
	Columns []column
	Pager   pager
	// Capped is set when the locked filter looked at only the first rows.
	Capped   int
	Clear    string
	Locked   string
	Unlocked string
	All      string
}

var attemptSorts = []string{"last_attempt", "first_attempt", "ip", "username", "user_agent", "path", "failures"}

// scanCap bounds the rows read to filter by status, which the store cannot
// do.
const scanCap = 10_000

func (rq *request) attempts() {
	rs, ok := rq.h.engine.Records()
	if !ok {
		rq.noRecords()
		return
	}
	size := rq.h.opts.PageSize
	p := readParams(rq.r.URL.Query(), "last_attempt", attemptSorts)
	var rows []attemptRow
	total, capped := 0, 0
	toRow := func(rec core.AttemptRecord) (attemptRow, error) {
		st, err := statusOf(rq.ctx(), rq.h.engine, rec)
		return attemptRow{
			IP: rec.IP, Username: rec.Username, UserAgent: rec.UserAgent, Path: rec.Path, Accept: rec.Accept,
			GetData: rec.GetData, PostData: rec.PostData, Failures: rec.Failures,
			FirstAttempt: rec.FirstAttempt.UTC(), LastAttempt: rec.LastAttempt.UTC(), status: st,
			Select:         url.Values{"ip": {rec.IP}, "username": {core.StoreUnescape(rec.Username)}}.Encode(),
			UsernameFilter: core.StoreUnescape(rec.Username),
		}, err
	}
	if p.Status == "" {
		q := p.query(size)
		recs, n, err := rs.Attempts(rq.ctx(), q)
		if err != nil {
			rq.fail(err)
			return
		}
		total = n
		for _, rec := range recs {
			row, err := toRow(rec)
			if err != nil {
				rq.fail(err)
				return
			}
			rows = append(rows, row)
		}
	} else {
		q := p.query(scanCap)
		q.Offset = 0
		recs, n, err := rs.Attempts(rq.ctx(), q)
		if err != nil {
			rq.fail(err)
			return
		}
		if n > len(recs) {
			capped = len(recs)
		}
		from := (p.Page - 1) * size
		for _, rec := range recs {
			row, err := toRow(rec)
			if err != nil {
				rq.fail(err)
				return
			}
			if row.Locked != (p.Status == "locked") {
				continue
			}
			if total >= from && total < from+size {
				rows = append(rows, row)
			}
			total++
		}
	}
	if rq.wantsJSON() {
		if rows == nil {
			rows = []attemptRow{}
		}
		rq.json(map[string]any{"total": total, "page": p.Page, "page_size": size, "attempts": rows})
		return
	}
	body := attemptsBody{
		P: p, Rows: rows, Capped: capped,
		Columns: p.columns("attempts", [][2]string{
			{"", ""}, {"ip", "IP address"}, {"username", "Username"}, {"user_agent", "User agent"}, {"path", "Path"},
			{"failures", "Failures"}, {"first_attempt", "First attempt"}, {"last_attempt", "Last attempt"}, {"", "Status"},
		}),
		Pager:    p.pager("attempts", total, size, len(rows)),
		Clear:    "attempts",
		All:      p.link("attempts", func(n *params) { n.Status, n.Page = "", 1 }),
		Locked:   p.link("attempts", func(n *params) { n.Status, n.Page = "locked", 1 }),
		Unlocked: p.link("attempts", func(n *params) { n.Status, n.Page = "unlocked", 1 }),
	}
	rq.render(http.StatusOK, "attempts", body)
}

type logsBody struct {
	P       params
	Columns []column
	Pager   pager
	Access  []core.AccessLog
	Failure []core.FailureLog
	Clear   string
}

func (rq *request) accessLogs() {
	rs, ok := rq.h.engine.Records()
	if !ok {
		rq.noRecords()
		return
	}
	size := rq.h.opts.PageSize
	p := readParams(rq.r.URL.Query(), "login_time", []string{"login_time", "logout_time", "ip", "username", "user_agent", "path"})
	p.Status = ""
	rows, total, err := rs.AccessLogs(rq.ctx(), p.query(size))
	if err != nil {
		rq.fail(err)
		return
	}
	if rq.wantsJSON() {
		type row struct {
			ID         int64      `json:"id"`
			Username   string     `json:"username"`
			IP         string     `json:"ip"`
			UserAgent  string     `json:"user_agent"`
			Path       string     `json:"path"`
			LoginTime  time.Time  `json:"login_time"`
			LogoutTime *time.Time `json:"logout_time"`
		}
		out := make([]row, len(rows))
		for i, l := range rows {
			out[i] = row{ID: l.ID, Username: l.Username, IP: l.IP, UserAgent: l.UserAgent, Path: l.Path, LoginTime: l.LoginTime.UTC()}
			if !l.LogoutTime.IsZero() {
				t := l.LogoutTime.UTC()
				out[i].LogoutTime = &t
			}
		}
		rq.json(map[string]any{"total": total, "page": p.Page, "page_size": size, "access_logs": out})
		return
	}
	rq.render(http.StatusOK, "access-logs", logsBody{
		P: p, Access: rows, Pager: p.pager("access-logs", total, size, len(rows)), Clear: "access-logs",
		Columns: p.columns("access-logs", [][2]string{
			{"login_time", "Login"}, {"logout_time", "Logout"}, {"ip", "IP address"}, {"username", "Username"}, {"user_agent", "User agent"}, {"path", "Path"},
		}),
	})
}

func (rq *request) failureLogs() {
	rs, ok := rq.h.engine.Records()
	if !ok {
		rq.noRecords()
		return
	}
	size := rq.h.opts.PageSize
	p := readParams(rq.r.URL.Query(), "time", []string{"time", "ip", "username", "user_agent", "path"})
	p.Status = ""
	rows, total, err := rs.FailureLogs(rq.ctx(), p.query(size))
	if err != nil {
		rq.fail(err)
		return
	}
	if rq.wantsJSON() {
		type row struct {
			ID        int64     `json:"id"`
			Username  string    `json:"username"`
			IP        string    `json:"ip"`
			UserAgent string    `json:"user_agent"`
			Path      string    `json:"path"`
			Time      time.Time `json:"time"`
			LockedOut bool      `json:"locked_out"`
		}
		out := make([]row, len(rows))
		for i, l := range rows {
			out[i] = row{ID: l.ID, Username: l.Username, IP: l.IP, UserAgent: l.UserAgent, Path: l.Path, Time: l.Time.UTC(), LockedOut: l.LockedOut}
		}
		rq.json(map[string]any{"total": total, "page": p.Page, "page_size": size, "failure_logs": out, "enabled": rq.h.engine.Config().EnableAccessFailureLog})
		return
	}
	rq.render(http.StatusOK, "failure-logs", logsBody{
		P: p, Failure: rows, Pager: p.pager("failure-logs", total, size, len(rows)), Clear: "failure-logs",
		Columns: p.columns("failure-logs", [][2]string{
			{"time", "Time"}, {"ip", "IP address"}, {"username", "Username"}, {"user_agent", "User agent"}, {"path", "Path"}, {"", "Locked out"},
		}),
	})
}
