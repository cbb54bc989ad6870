package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/goaxes/axes/core"
)

// redirect answers a POST with 303 to a page relative to the mount point
// (http.Redirect would resolve it against the stripped path).
func (rq *request) redirect(to string) {
	rq.w.Header().Set("Location", to)
	rq.w.WriteHeader(http.StatusSeeOther)
}

type confirmBody struct {
	Records int
	Locked  int
}

// reset serves POST reset (CSRF already checked). Form fields:
//
//	action=selected  sel=<row>...  each row's IP or username (its lockout, as django-axes' reset_request)
//	action=ip        ip=IP
//	action=username  username=NAME
//	action=all       confirm=yes   everything; without confirm, a confirmation page
//
// Only action=all resets everything. Every other filter goes through
// Engine.CanonicalFilter before anything is reset: one that names nothing,
// a username that is empty once canonicalised (U+200B) or an IP address
// that does not parse refuses the whole request, with an error on the
// attempts page.
func (rq *request) reset() {
	f := rq.r.PostForm
	e := rq.h.engine
	var filters []core.Filter
	switch f.Get("action") {
	case "selected":
		seen := map[core.Filter]bool{}
		for _, s := range f["sel"] {
			v, err := url.ParseQuery(s)
			if err != nil {
				rq.redirect("attempts?error=selection")
				return
			}
			fl := core.Filter{IP: v.Get("ip"), Username: v.Get("username"), Either: true}
			if fl, err = e.CanonicalFilter(fl); err != nil {
				rq.redirect("attempts?error=selection")
				return
			}
			if !seen[fl] {
				seen[fl] = true
				filters = append(filters, fl)
			}
		}
		if len(filters) == 0 {
			rq.redirect("attempts?error=selected")
			return
		}
	case "ip":
		fl, err := e.CanonicalFilter(core.Filter{IP: strings.TrimSpace(f.Get("ip"))})
		if err != nil {
			rq.redirect("attempts?error=ip")
			return
		}
		filters = []core.Filter{fl}
	case "username":
		fl, err := e.CanonicalFilter(core.Filter{Username: f.Get("username")})
		if err != nil {
			rq.redirect("attempts?error=username")
			return
		}
		filters = []core.Filter{fl}
	case "all":
		if f.Get("confirm") != "yes" {
			var body confirmBody
			if rs, ok := e.Records(); ok {
				recs, n, err := rs.Attempts(rq.ctx(), core.ListQuery{Limit: 2000})
				if err != nil {
					rq.fail(err)
					return
				}
				body.Records = n
				for _, rec := range recs {
					if st, err := statusOf(rq.ctx(), e, rec); err == nil && st.Locked {
						body.Locked++
					}
				}
			}
			rq.render(http.StatusOK, "confirm", body)
			return
		}
		n, err := e.ResetAll(rq.ctx())
		if err != nil {
			rq.fail(err)
			return
		}
		rq.redirect("attempts?removed=" + strconv.Itoa(n))
		return
	default:
		rq.redirect("attempts?error=action")
		return
	}
	total := 0
	for _, fl := range filters {
		n, err := e.Reset(rq.ctx(), fl)
		if errors.Is(err, core.ErrBadFilter) { // checked above: not reached
			rq.redirect("attempts?error=selection")
			return
		}
		if err != nil {
			rq.fail(err)
			return
		}
		total += n
	}
	rq.redirect("attempts?removed=" + strconv.Itoa(total))
}
