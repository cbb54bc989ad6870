package admin

import (
	"net/http"
	"net/netip"
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
				continue
			}
			fl := core.Filter{IP: v.Get("ip"), Username: v.Get("username"), Either: true}
			if (fl.IP == "" && fl.Username == "") || seen[fl] {
				continue
			}
			if fl.IP != "" {
				if _, err := netip.ParseAddr(fl.IP); err != nil {
					fl.IP = ""
					if fl.Username == "" {
						continue
					}
				}
			}
			seen[fl] = true
			filters = append(filters, fl)
		}
		if len(filters) == 0 {
			rq.redirect("attempts?error=selected")
			return
		}
	case "ip":
		ip := strings.TrimSpace(f.Get("ip"))
		if _, err := netip.ParseAddr(ip); err != nil {
			rq.redirect("attempts?error=ip")
			return
		}
		filters = []core.Filter{{IP: ip}}
	case "username":
		u := f.Get("username")
		if strings.TrimSpace(u) == "" {
			rq.redirect("attempts?error=username")
			return
		}
		filters = []core.Filter{{Username: u}}
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
		if err != nil {
			rq.fail(err)
			return
		}
		total += n
	}
	rq.redirect("attempts?removed=" + strconv.Itoa(total))
}
