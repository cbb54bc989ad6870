package adaptertest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/goaxes/axes/core"
)

// This file is the credential-shape table (docs/design.md, G9 and G10):
// every way a login request can carry, or hide, its username, crossed
// with every lockout parameter set and both store-fault policies. In each
// row alice is locked first, then the shape carries her right password:
// no shape logs her in, and her password is never checked while she is
// locked. Under parameters that involve the username, a shape whose
// username the guard cannot read with certainty is refused with 400
// before the handler; with ip_address alone the shape reaches the handler
// as before.

// shapeMaxBody is the read cap in the shape table: room for MaxFields+1
// short fields, small enough that the rows around it stay small.
const shapeMaxBody = 16 << 10

// Shape is one way of sending credentials.
type Shape struct {
	Name string
	// Request builds the step for user and pass: body, content type,
	// path (with a query) and headers.
	Request func(user, pass string) Step
	// Certain: the guard reads the username with certainty.
	Certain bool
	// Either: the guard may read it either way (a framework's own header
	// handling decides): 400 or the lockout.
	Either bool
}

func formBody(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func formStep(ct, body string) Step { return Step{Body: body, ContentType: ct} }

const formType = "application/x-www-form-urlencoded"

func multipartStep(fields ...string) Step {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = w.WriteField(fields[i], fields[i+1])
	}
	_ = w.Close()
	return Step{Body: buf.String(), ContentType: w.FormDataContentType()}
}

func gzipped(s string) string {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	_, _ = z.Write([]byte(s))
	_ = z.Close()
	return buf.String()
}

// padTo returns a form of exactly n bytes with the credentials after a
// pad field (or before it when first).
func padTo(n int, user, pass string, first bool) string {
	creds := formBody("username", user, "password", pass)
	pad := n - len(creds) - len("&pad=")
	if pad < 0 {
		pad = 0
	}
	if first {
		return creds + "&pad=" + strings.Repeat("p", pad)
	}
	return "pad=" + strings.Repeat("p", pad) + "&" + creds
}

// manyFields returns a form of n values: pads, then the credentials.
func manyFields(n int, user, pass string) string {
	var b strings.Builder
	for i := range n - 2 {
		fmt.Fprintf(&b, "f%d=v&", i)
	}
	b.WriteString(formBody("username", user, "password", pass))
	return b.String()
}

// Shapes is the table of request shapes.
func Shapes() []Shape {
	form := func(user, pass string) string { return formBody("username", user, "password", pass) }
	js := func(user, pass string) string {
		return fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass)
	}
	return []Shape{
		{Name: "form", Certain: true, Request: func(u, p string) Step { return formStep(formType, form(u, p)) }},
		{Name: "form with charset", Certain: true, Request: func(u, p string) Step {
			return formStep(formType+"; charset=utf-8", form(u, p))
		}},
		{Name: "form, odd casing", Certain: true, Request: func(u, p string) Step {
			return formStep("Application/X-WWW-Form-URLEncoded", form(u, p))
		}},
		{Name: "multipart", Certain: true, Request: func(u, p string) Step { return multipartStep("username", u, "password", p) }},
		{Name: "json", Certain: true, Request: func(u, p string) Step { return formStep("application/json", js(u, p)) }},
		{Name: "json+suffix with charset", Certain: true, Request: func(u, p string) Step {
			return formStep("application/vnd.api+json; charset=utf-8", js(u, p))
		}},
		{Name: "identity encoding", Certain: true, Request: func(u, p string) Step {
			s := formStep(formType, form(u, p))
			s.Header = map[string]string{"Content-Encoding": "identity"}
			return s
		}},
		{Name: "body at the cap", Certain: true, Request: func(u, p string) Step {
			return formStep(formType, padTo(shapeMaxBody, u, p, false))
		}},
		{Name: "MaxFields values", Certain: true, Request: func(u, p string) Step {
			return formStep(formType, manyFields(core.MaxFields, u, p))
		}},

		{Name: "form as text/plain", Request: func(u, p string) Step { return formStep("text/plain", form(u, p)) }},
		{Name: "json as text/plain", Request: func(u, p string) Step { return formStep("text/plain", js(u, p)) }},
		{Name: "no content type", Request: func(u, p string) Step { return formStep("", form(u, p)) }},
		{Name: "xml", Request: func(u, p string) Step {
			return formStep("application/xml", "<login><username>"+u+"</username><password>"+p+"</password></login>")
		}},
		{Name: "body one past the cap, username last", Request: func(u, p string) Step {
			return formStep(formType, padTo(shapeMaxBody+1, u, p, false))
		}},
		{Name: "body one past the cap, username first", Request: func(u, p string) Step {
			return formStep(formType, padTo(shapeMaxBody+1, u, p, true))
		}},
		{Name: "MaxFields+1 values", Request: func(u, p string) Step {
			return formStep(formType, manyFields(core.MaxFields+1, u, p))
		}},
		{Name: "username in query and body", Request: func(u, p string) Step {
			s := formStep(formType, form(u, p))
			s.Path = "/login?username=" + url.QueryEscape(u)
			return s
		}},
		{Name: "username in the query only", Request: func(u, p string) Step {
			s := formStep(formType, formBody("password", p))
			s.Path = "/login?username=" + url.QueryEscape(u)
			return s
		}},
		{Name: "username twice", Request: func(u, p string) Step {
			return formStep(formType, formBody("username", "nobody", "username", u, "password", p))
		}},
		{Name: "username twice, same value", Request: func(u, p string) Step {
			return formStep(formType, formBody("username", u, "username", u, "password", p))
		}},
		{Name: "multipart username twice", Request: func(u, p string) Step {
			return multipartStep("username", "nobody", "username", u, "password", p)
		}},
		{Name: "multipart username past the value cap", Request: func(u, p string) Step {
			return multipartStep("username", u+strings.Repeat(" ", 5000), "password", p)
		}},
		{Name: "json duplicate key", Request: func(u, p string) Step {
			return formStep("application/json", fmt.Sprintf(`{"username":"nobody","username":%q,"password":%q}`, u, p))
		}},
		{Name: "json keys equal under case folding", Request: func(u, p string) Step {
			return formStep("application/json", fmt.Sprintf(`{"USERNAME":"nobody","username":%q,"password":%q}`, u, p))
		}},
		{Name: "json with a byte order mark", Request: func(u, p string) Step {
			return formStep("application/json", "\xef\xbb\xbf"+js(u, p))
		}},
		{Name: "json nested", Request: func(u, p string) Step {
			return formStep("application/json", fmt.Sprintf(`{"user":{"username":%q},"password":%q}`, u, p))
		}},
		{Name: "json followed by another object", Request: func(u, p string) Step {
			return formStep("application/json", js("nobody", p)+js(u, p))
		}},
		{Name: "malformed form pair", Request: func(u, p string) Step {
			return formStep(formType, form(u, p)+"&x=%zz")
		}},
		{Name: "semicolon pair", Request: func(u, p string) Step {
			return formStep(formType, "username=nobody;x&"+form(u, p))
		}},
		{Name: "other username field (allauth's login)", Request: func(u, p string) Step {
			return formStep(formType, formBody("login", u, "password", p))
		}},
		{Name: "empty username", Request: func(u, p string) Step {
			return formStep(formType, formBody("username", "", "password", p))
		}},
		{Name: "gzip form", Request: func(u, p string) Step {
			s := formStep(formType, gzipped(form(u, p)))
			s.Header = map[string]string{"Content-Encoding": "gzip"}
			return s
		}},
		{Name: "gzip json", Request: func(u, p string) Step {
			s := formStep("application/json", gzipped(js(u, p)))
			s.Header = map[string]string{"Content-Encoding": "gzip"}
			return s
		}},
		{Name: "two content types", Either: true, Request: func(u, p string) Step {
			s := formStep(formType, form(u, p))
			s.ExtraContentType = "text/plain"
			return s
		}},
	}
}

// lockoutParameterSets are the rows of the table.
var lockoutParameterSets = []string{"ip_address", "username", "username,ip_address", "ip_address+username"}

// shapeScenarios crosses Shapes with the lockout parameter sets and the
// store-fault policies, in the Middleware (form handler) and Report (JSON
// handler) styles.
func shapeScenarios() []Scenario {
	var out []Scenario
	for _, params := range lockoutParameterSets {
		ps, err := core.ParseLockoutParameters(params)
		if err != nil {
			panic(err)
		}
		// Where alice is locked from any address, the shape comes from a
		// fresh one; where the IP is part of the key, from the one locked.
		fresh := params == "username" || params == "username,ip_address"
		for _, failOpen := range []bool{false, true} {
			for _, sh := range Shapes() {
				lockStep := func() Step {
					s := Step{User: "alice", Pass: "wrong", Status: Failed, Ran: true}
					return s
				}
				locked := lockStep()
				locked.Status = http.StatusTooManyRequests
				try := sh.Request("alice", "secret")
				try.Ran = false
				try.Forbid = []int{http.StatusOK, http.StatusSeeOther}
				switch {
				case params == "ip_address":
					try.Status = http.StatusTooManyRequests // the IP decides; the body is never read
				case sh.Either:
					try.AnyOf = []int{http.StatusBadRequest, http.StatusTooManyRequests}
				case sh.Certain:
					try.Status = http.StatusTooManyRequests
				default:
					try.Status = http.StatusBadRequest
				}
				if fresh {
					try.From = "10.0.9.1:40000"
				}
				steps := []Step{lockStep(), lockStep(), locked, try}
				if params == "ip_address" {
					// Nothing changes for the shape with ip_address alone:
					// from a client not locked it reaches the handler.
					free := sh.Request("alice", "wrong")
					free.From, free.Ran, free.Status = "10.0.9.2:40000", true, 0
					free.Forbid = []int{http.StatusOK, http.StatusSeeOther}
					steps = append(steps, free)
				}
				ps, failOpen := ps, failOpen
				out = append(out, Scenario{
					Name:   fmt.Sprintf("shape %s, %s, fail open %t", sh.Name, params, failOpen),
					Styles: []Style{Middleware, Report},
					Config: func(c *core.Config) {
						c.LockoutParameters = ps
						c.FailOpen = failOpen
						c.MaxBodyBytes = shapeMaxBody
					},
					Steps: steps,
				})
			}
		}
	}
	return out
}
