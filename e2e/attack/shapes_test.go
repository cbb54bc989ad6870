package attack_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The request shapes of docs/design.md G9/G10: a login the guard must either read
// with certainty or refuse before the login handler runs. Every shape is
// sent to every example under every lockout parameter set, failing open
// and closed; see TestShapesG9.

// shapeLimit is the failure limit of the apps under test.
const shapeLimit = 3

// shapeClass is what the guard must make of a shape when the lockout
// parameters involve the username.
type shapeClass int

const (
	// certain: a supported body whose username the guard reads; a locked
	// user gets the lockout status.
	certain shapeClass = iota
	// uncertain: the guard cannot read the username with certainty, so it
	// refuses with 400 before the handler (and counts a failure of the
	// client address).
	uncertain
	// either: a refusal of either kind is right (two Content-Type headers).
	either
	// fault: the client breaks its own request (a body shorter than its
	// Content-Length, then half-closed or cut): a 400 or a dropped
	// connection, never a store error.
	fault
)

func (c shapeClass) String() string {
	return [...]string{"certain", "uncertain", "either", "client fault"}[c]
}

// ending is how a raw request ends.
type ending int

const (
	whole     ending = iota // the whole request, then read the answer
	halfClose               // the request, then CloseWrite, then read the answer
	cut                     // the request, a short wait for an early answer, then a reset
)

// wire is one raw HTTP/1.1 request.
type wire struct {
	path    string
	headers []string // "Name: value" lines, in order, repeats kept
	body    []byte
	chunked bool // Transfer-Encoding: chunked, the body in chunks of 1000
	short   int  // bytes the Content-Length (or the chunks) claim beyond body
	end     ending
}

// bytes is the request on the wire.
func (w wire) bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n", w.path)
	for _, h := range w.headers {
		b.WriteString(h + "\r\n")
	}
	if !w.chunked {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(w.body)+w.short)
		b.Write(w.body)
		return b.Bytes()
	}
	b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	for rest := w.body; len(rest) > 0; {
		n := min(len(rest), 1000)
		if w.short > 0 && n == len(rest) {
			// The last chunk claims more than it carries, and no
			// terminating chunk follows.
			fmt.Fprintf(&b, "%x\r\n", n+w.short)
			b.Write(rest)
			return b.Bytes()
		}
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(rest[:n])
		b.WriteString("\r\n")
		rest = rest[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// shape is one way of sending a login: wire builds it for a username and
// a password.
type shape struct {
	name  string
	class shapeClass
	// never: no lockout parameters make this a login (the username only
	// in the query string, no username field, a broken body), so it is
	// also sent from a fresh address where the lock is on the address.
	never bool
	wire  func(user, pass string) wire
}

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
	boundary = "shapeBoundary7MA4YWxk"
)

func ct(v string) string { return "Content-Type: " + v }

// form and api build a wire to /login and to /api/login (which asks for
// JSON answers).
func form(body string, headers ...string) wire {
	return wire{path: "/login", headers: headers, body: []byte(body)}
}

func api(body string, headers ...string) wire {
	return wire{path: "/api/login", headers: append([]string{"Accept: application/json"}, headers...), body: []byte(body)}
}

// login is the usual form body; loginJSON the usual JSON body.
func login(u, p string) string     { return formBody("username", u, "password", p) }
func loginJSON(u, p string) string { return jsonLogin(u, p) }

func quoted(s string) string { b, _ := json.Marshal(s); return string(b) }

// padForm is a form body of exactly n bytes: the credentials before (or
// after) a big pad field.
func padForm(n int, after bool, u, p string) string {
	creds := login(u, p)
	pad := n - len(creds) - len("&pad=")
	if after {
		return "pad=" + strings.Repeat("p", pad) + "&" + formBody("password", p, "username", u)
	}
	return creds + "&pad=" + strings.Repeat("p", pad)
}

// padJSON is a JSON body of exactly n bytes, the username before (or after)
// a big pad member.
func padJSON(n int, after bool, u, p string) string {
	var head, tail string
	if after {
		head, tail = `{"pad":"`, `","password":`+quoted(p)+`,"username":`+quoted(u)+`}`
	} else {
		head, tail = `{"username":`+quoted(u)+`,"password":`+quoted(p)+`,"pad":"`, `"}`
	}
	return head + strings.Repeat("p", n-len(head)-len(tail)) + tail
}

// fieldsBefore is a form body with n fields before the username: the
// password and n-1 others.
func fieldsBefore(n int, u, p string) string {
	var b strings.Builder
	b.WriteString(formBody("password", p))
	for i := range n - 1 {
		fmt.Fprintf(&b, "&f%d=%d", i, i)
	}
	b.WriteString("&" + formBody("username", u))
	return b.String()
}

func multipartBody(kv ...string) string {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.SetBoundary(boundary)
	for i := 0; i+1 < len(kv); i += 2 {
		_ = mw.WriteField(kv[i], kv[i+1])
	}
	_ = mw.Close()
	return b.String()
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = io.WriteString(zw, s)
	_ = zw.Close()
	return b.String()
}

func deflated(s string) string {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	_, _ = io.WriteString(zw, s)
	_ = zw.Close()
	return b.String()
}

// shapes is the table of G9/G10 shapes.
func shapes() []shape {
	s := func(name string, class shapeClass, w func(u, p string) wire) shape {
		return shape{name: name, class: class, wire: w}
	}
	never := func(sh shape) shape { sh.never = true; return sh }
	chunked := func(w wire) wire { w.chunked = true; return w }
	broken := func(w wire, end ending) wire { w.short, w.end = 16, end; return w }
	out := []shape{
		// Content types the guard reads.
		s("form", certain, func(u, p string) wire { return form(login(u, p), ct(formType)) }),
		s("form, odd casing", certain, func(u, p string) wire { return form(login(u, p), ct("Application/X-WWW-Form-URLEncoded")) }),
		s("form; charset=utf-8", certain, func(u, p string) wire { return form(login(u, p), ct(formType+"; charset=utf-8")) }),
		s("form; Charset=\"UTF-8\", odd casing", certain, func(u, p string) wire {
			return form(login(u, p), ct(`APPLICATION/x-www-form-urlencoded; Charset="UTF-8"`))
		}),
		s("multipart", certain, func(u, p string) wire {
			return form(multipartBody("username", u, "password", p), ct("multipart/form-data; boundary="+boundary))
		}),
		// fiber's own multipart parser does not read an odd-cased media
		// type, so the guard refuses it there (400) rather than pass on a
		// body the handler would read otherwise; elsewhere it is certain.
		s("multipart, odd casing", either, func(u, p string) wire {
			return form(multipartBody("username", u, "password", p), ct("Multipart/Form-Data; Boundary="+boundary))
		}),
		s("JSON", certain, func(u, p string) wire { return api(loginJSON(u, p), ct(jsonType)) }),
		s("JSON; charset=utf-8", certain, func(u, p string) wire { return api(loginJSON(u, p), ct(jsonType+"; charset=utf-8")) }),
		s("JSON, odd casing", certain, func(u, p string) wire { return api(loginJSON(u, p), ct("Application/JSON; Charset=UTF-8")) }),
		s("+json", certain, func(u, p string) wire { return api(loginJSON(u, p), ct("application/vnd.api+json")) }),
		s("form, Content-Encoding: identity", certain, func(u, p string) wire {
			return form(login(u, p), ct(formType), "Content-Encoding: identity")
		}),
		s("form, chunked", certain, func(u, p string) wire { return chunked(form(login(u, p), ct(formType))) }),
		s("JSON, chunked", certain, func(u, p string) wire { return chunked(api(loginJSON(u, p), ct(jsonType))) }),
		// Content types it does not parse.
		s("form as text/plain", uncertain, func(u, p string) wire { return form(login(u, p), ct("text/plain")) }),
		s("form, no Content-Type", uncertain, func(u, p string) wire { return form(login(u, p)) }),
		s("JSON as text/plain", uncertain, func(u, p string) wire { return api(loginJSON(u, p), ct("text/plain")) }),
		s("JSON as text/plain; charset=utf-8", uncertain, func(u, p string) wire {
			return api(loginJSON(u, p), ct("text/plain; charset=utf-8"))
		}),
		s("JSON, no Content-Type", uncertain, func(u, p string) wire { return api(loginJSON(u, p)) }),
		s("JSON as application/xml", uncertain, func(u, p string) wire { return api(loginJSON(u, p), ct("application/xml")) }),
		s("two Content-Types, form first", either, func(u, p string) wire {
			return form(login(u, p), ct(formType), ct("text/plain"))
		}),
		s("two Content-Types, form last", either, func(u, p string) wire {
			return form(login(u, p), ct("text/plain"), ct(formType))
		}),
		// Encodings.
		s("form, gzip", uncertain, func(u, p string) wire {
			return form(gzipped(login(u, p)), ct(formType), "Content-Encoding: gzip")
		}),
		s("form, deflate", uncertain, func(u, p string) wire {
			return form(deflated(login(u, p)), ct(formType), "Content-Encoding: deflate")
		}),
		s("form, br label on a plain body", uncertain, func(u, p string) wire {
			return form(login(u, p), ct(formType), "Content-Encoding: br")
		}),
		s("JSON, gzip", uncertain, func(u, p string) wire {
			return api(gzipped(loginJSON(u, p)), ct(jsonType), "Content-Encoding: gzip")
		}),
		// Sizes around the 64 KiB read cap.
		s("form 65535 B, username first", certain, func(u, p string) wire { return form(padForm(65535, false, u, p), ct(formType)) }),
		s("form 65535 B, username last", certain, func(u, p string) wire { return form(padForm(65535, true, u, p), ct(formType)) }),
		s("form 65536 B, username first", certain, func(u, p string) wire { return form(padForm(65536, false, u, p), ct(formType)) }),
		s("form 65536 B, username last", certain, func(u, p string) wire { return form(padForm(65536, true, u, p), ct(formType)) }),
		s("form 65537 B, username first", uncertain, func(u, p string) wire { return form(padForm(65537, false, u, p), ct(formType)) }),
		s("form 65537 B, username last", uncertain, func(u, p string) wire { return form(padForm(65537, true, u, p), ct(formType)) }),
		s("JSON 65536 B, username last", certain, func(u, p string) wire { return api(padJSON(65536, true, u, p), ct(jsonType)) }),
		s("JSON 65537 B, username first", uncertain, func(u, p string) wire { return api(padJSON(65537, false, u, p), ct(jsonType)) }),
		// Field counts: the password, then others, then the username.
		s("999 fields before the username (1000 in all)", certain, func(u, p string) wire {
			return form(fieldsBefore(999, u, p), ct(formType))
		}),
		s("1000 fields before the username (1001 in all)", uncertain, func(u, p string) wire {
			return form(fieldsBefore(1000, u, p), ct(formType))
		}),
		s("1001 fields before the username (1002 in all)", uncertain, func(u, p string) wire {
			return form(fieldsBefore(1001, u, p), ct(formType))
		}),
		// Where the username is, and how often.
		never(s("form, username only in the query", uncertain, func(u, p string) wire {
			w := form(formBody("password", p), ct(formType))
			w.path += "?" + formBody("username", u)
			return w
		})),
		never(s("JSON, username only in the query", uncertain, func(u, p string) wire {
			w := api(`{"password":`+quoted(p)+`}`, ct(jsonType))
			w.path += "?" + formBody("username", u)
			return w
		})),
		s("form, username in the query and the body", uncertain, func(u, p string) wire {
			w := form(login(u, p), ct(formType))
			w.path += "?" + formBody("username", "bob")
			return w
		}),
		s("JSON, username in the query and the body", uncertain, func(u, p string) wire {
			w := api(loginJSON(u, p), ct(jsonType))
			w.path += "?" + formBody("username", "bob")
			return w
		}),
		s("form, username twice, the user first", uncertain, func(u, p string) wire {
			return form(formBody("username", u, "username", "carol", "password", p), ct(formType))
		}),
		s("form, username twice, the user last", uncertain, func(u, p string) wire {
			return form(formBody("username", "carol", "username", u, "password", p), ct(formType))
		}),
		s("multipart, username twice", uncertain, func(u, p string) wire {
			return form(multipartBody("username", u, "username", "carol", "password", p), ct("multipart/form-data; boundary="+boundary))
		}),
		s("JSON, duplicate key, the user first", uncertain, func(u, p string) wire {
			return api(`{"username":`+quoted(u)+`,"username":"carol","password":`+quoted(p)+`}`, ct(jsonType))
		}),
		s("JSON, duplicate key, the user last", uncertain, func(u, p string) wire {
			return api(`{"username":"carol","username":`+quoted(u)+`,"password":`+quoted(p)+`}`, ct(jsonType))
		}),
		s("JSON, keys equal under case folding", uncertain, func(u, p string) wire {
			return api(`{"USERNAME":"carol","username":`+quoted(u)+`,"password":`+quoted(p)+`}`, ct(jsonType))
		}),
		never(s("form, no username field (login=)", uncertain, func(u, p string) wire {
			return form(formBody("login", u, "password", p), ct(formType))
		})),
		never(s("JSON, no username field (login)", uncertain, func(u, p string) wire {
			return api(`{"login":`+quoted(u)+`,"password":`+quoted(p)+`}`, ct(jsonType))
		})),
		s("malformed JSON", uncertain, func(u, p string) wire {
			return api(`{"username":`+quoted(u)+`,"password":`+quoted(p), ct(jsonType))
		}),
		s("JSON with a BOM", uncertain, func(u, p string) wire { return api("\ufeff"+loginJSON(u, p), ct(jsonType)) }),
		// Broken bodies.
		never(s("form, short body, half-closed", fault, func(u, p string) wire {
			return broken(form(login(u, p), ct(formType)), halfClose)
		})),
		never(s("JSON, short body, half-closed", fault, func(u, p string) wire {
			return broken(api(loginJSON(u, p), ct(jsonType)), halfClose)
		})),
		never(s("JSON, chunked, last chunk short, half-closed", fault, func(u, p string) wire {
			return broken(chunked(api(loginJSON(u, p), ct(jsonType))), halfClose)
		})),
		never(s("form, short body, cut", fault, func(u, p string) wire {
			return broken(form(login(u, p), ct(formType)), cut)
		})),
		never(s("JSON, short body, cut", fault, func(u, p string) wire {
			return broken(api(loginJSON(u, p), ct(jsonType)), cut)
		})),
	}
	return out
}

// paramRow is one AXES_LOCKOUT_PARAMETERS value under test.
type paramRow struct {
	params string
	// username: the parameters involve the username (G9 applies).
	username bool
	// atLock: the lock is on the address (alone or with the username), so
	// alice's shapes are sent from the locked address; else each from a
	// fresh one (the lock follows alice).
	atLock bool
}

var paramRows = []paramRow{
	{"ip_address", false, true},
	{"username", true, false},
	{"username,ip_address", true, false},
	{"ip_address+username", true, true},
}

// want is the statuses allowed for sh sent by a locked alice.
func (row paramRow) want(sh shape) []int {
	switch {
	case sh.class == fault:
		return []int{0, 400, 429}
	case !row.username, sh.class == certain:
		return []int{429}
	case sh.class == uncertain && !row.atLock:
		return []int{400}
	}
	// Uncertain from the locked address: 400, or 429 once the address's
	// own count of uncertain requests locks it; either refusal.
	return []int{400, 429}
}

// answer is what a raw request got: status 0 when the connection was
// dropped (or cut) without a response.
type answer struct {
	status int
	header http.Header
	body   string
	err    error
}

func (r answer) String() string {
	if r.status == 0 {
		msg := fmt.Sprint(r.err)
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:] // "i/o timeout", "EOF", "connection reset by peer"
		}
		return "0 (no response: " + msg + ")"
	}
	return strconv.Itoa(r.status)
}

// loggedIn reports whether r carries a session cookie.
func (r answer) loggedIn() bool {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "axes_demo_session" && c.Value != "" {
			return true
		}
	}
	return false
}

// exchange sends w from ip on a connection of its own and reads the
// answer. It fails the test when nothing happens within 15s.
func exchange(t testing.TB, addr, ip string, w wire) answer {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	tcp := conn.(*net.TCPConn)
	defer tcp.Close()
	data := w.bytes()
	if w.end == cut {
		_, _ = tcp.Write(data)
		// An early answer (a refusal before the body) is read; none
		// within 200ms is a dropped connection, then the reset.
		_ = tcp.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		r := readAnswer(tcp)
		_ = tcp.SetLinger(0)
		return r
	}
	_ = tcp.SetDeadline(time.Now().Add(15 * time.Second))
	go func() {
		// The server may answer before it reads the whole body.
		if _, err := tcp.Write(data); err == nil && w.end == halfClose {
			_ = tcp.CloseWrite()
		}
	}()
	r := readAnswer(tcp)
	if ne, ok := r.err.(net.Error); ok && ne.Timeout() {
		t.Errorf("no answer within 15s to %s %.80q", w.path, data)
	}
	return r
}

func readAnswer(conn net.Conn) answer {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

// storeAlarms reports the app's "axes: store error" log lines and the sum
// of its axes_store_errors_total counters.
func (a *app) storeAlarms(t testing.TB) (lines int, metric float64) {
	t.Helper()
	lines = strings.Count(a.logs(t), "axes: store error")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(a.base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "axes_store_errors_total") {
			continue
		}
		if v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64); err == nil {
			metric += v
		}
	}
	return lines, metric
}

// TestShapesG9 sends every shape of the G9/G10 table to every example,
// under every lockout parameter set, failing open and closed: one app per
// combination, all shapes against it. For each:
//
//   - alice is locked (shapeLimit wrong form logins from one address), then
//     every shape carries her right password, from a fresh address where
//     the lock follows her username, else from the locked address: none
//     logs her in, each gets the status its class calls for, and her
//     password is never checked again (at most shapeLimit checks in all);
//   - under ip_address and ip_address+username the shapes that are never
//     a login (username only in the query, no username field, broken
//     bodies) are also sent from fresh addresses: none logs anyone in, and
//     the guard or the app answers 400 (or drops a broken body);
//   - every shape carries a wrong password for bob from one fresh address:
//     every wrong guess that reached a password check was counted, so bob's
//     password is checked at most shapeLimit times;
//   - where the username is involved, requests the guard cannot read count
//     against the client address: the (shapeLimit+1)th gets the lockout;
//   - no client fault raises a store-error alarm (log line or metric).
func TestShapesG9(t *testing.T) {
	t.Parallel()
	table := shapes()
	for _, fw := range frameworks {
		for _, row := range paramRows {
			for _, open := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/fail_open=%v", fw, row.params, open)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					runShapes(t, fw, row, open, table)
				})
			}
		}
	}
}

func runShapes(t *testing.T, fw string, row paramRow, open bool, table []shape) {
	began := time.Now()
	a := startApp(t, fw, fmt.Sprintf("AXES_FAILURE_LIMIT=%d", shapeLimit), "AXES_COOLOFF_TIME=24h",
		"AXES_LOCKOUT_PARAMETERS="+row.params, fmt.Sprintf("AXES_FAIL_OPEN=%v", open))
	where := fmt.Sprintf("%s [%s, fail_open=%v]", fw, row.params, open)
	// Each failure is one line: SHAPE fw [params, fail_open] | phase |
	// shape | status | what went wrong.
	report := func(phase string, sh shape, r answer, problems []string) {
		t.Helper()
		if len(problems) > 0 {
			t.Errorf("SHAPE %s | %s | %s | %s | %s", where, phase, sh.name, r, strings.Join(problems, "; "))
		}
	}
	checksOf := func(user string) int64 { return a.probe(t).ChecksByUser[user] }
	// send sends sh for user from ip and lists what went wrong beyond the
	// status: a login, password checks of user, a reason-less 400 (when
	// reason), store alarms after a client fault.
	var alarmed struct {
		lines  int
		metric float64
	}
	send := func(ip string, sh shape, user, pass string, reason bool) (answer, []string, int64) {
		t.Helper()
		before := checksOf(user)
		r := exchange(t, a.addr, ip, sh.wire(user, pass))
		var problems []string
		if r.status == http.StatusOK || r.status == http.StatusSeeOther || r.loggedIn() {
			problems = append(problems, fmt.Sprintf("%s LOGGED IN (session cookie: %v)", user, r.loggedIn()))
		}
		if reason && r.status == http.StatusBadRequest {
			if p := missingReason(sh, r); p != "" {
				problems = append(problems, p)
			}
		}
		if sh.class == fault {
			if sh.end() == cut {
				time.Sleep(100 * time.Millisecond) // the server sees the reset after the answer we did not get
			}
			// Each fault is blamed for the alarms it adds.
			if lines, metric := a.storeAlarms(t); lines > alarmed.lines || metric > alarmed.metric {
				problems = append(problems, fmt.Sprintf("STORE ALARM for a client fault: \"axes: store error\" log lines %d → %d, axes_store_errors_total %v → %v (the last: %s)",
					alarmed.lines, lines, alarmed.metric, metric, lastLine(a.logs(t), "axes: store error")))
				alarmed.lines, alarmed.metric = lines, metric
			}
		}
		return r, problems, checksOf(user) - before
	}
	if lines, metric := a.storeAlarms(t); lines > 0 || metric > 0 {
		t.Fatalf("%s: store alarms before any shape: %d log lines, metric %v", where, lines, metric)
	}

	// Lock alice: shapeLimit wrong form logins from one address, then the
	// right password from it is refused.
	lockIP := nextIP()
	for i := range shapeLimit {
		r := exchange(t, a.addr, lockIP, form(login("alice", "x"), ct(formType)))
		want := http.StatusUnauthorized
		if i == shapeLimit-1 {
			want = http.StatusTooManyRequests
		}
		require.Equal(t, want, r.status, "%s: wrong form login %d of alice", where, i+1)
	}
	r := exchange(t, a.addr, lockIP, form(login("alice", "wonderland"), ct(formType)))
	require.Equal(t, http.StatusTooManyRequests, r.status, "%s: alice is locked", where)
	require.EqualValues(t, shapeLimit, checksOf("alice"), "%s: alice's checks while locking her", where)

	// Alice's right password in every shape, from a fresh address where
	// the lock follows her username, else from the locked address.
	phase := "locked alice, fresh address"
	if row.atLock {
		phase = "locked alice, locked address"
	}
	statuses := map[string]string{}
	for _, sh := range table {
		ip := lockIP
		if !row.atLock {
			ip = nextIP()
		}
		r, problems, n := send(ip, sh, "alice", "wonderland", row.username && sh.class != fault)
		statuses[sh.name] = r.String()
		if want := row.want(sh); !slices.Contains(want, r.status) {
			problems = append(problems, fmt.Sprintf("want one of %v (%s): %.120q", want, sh.class, r.body))
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("PASSWORD CHECKED (+%d)", n))
		}
		report(phase, sh, r, problems)
	}
	if n := checksOf("alice"); n > shapeLimit {
		t.Errorf("SHAPE %s | %s | (all shapes) | - | alice's password was checked %d times in all, limit %d", where, phase, n, shapeLimit)
	}

	// Where the lock is on the address, the shapes that are never a login
	// from fresh addresses: a 400 (or a dropped broken body), nobody in.
	if row.atLock {
		for _, sh := range table {
			if !sh.never {
				continue
			}
			r, problems, n := send(nextIP(), sh, "alice", "wonderland", row.username && sh.class != fault)
			statuses[sh.name+" (fresh address)"] = r.String()
			want := []int{400}
			if sh.class == fault {
				want = []int{0, 400}
			}
			if !slices.Contains(want, r.status) {
				problems = append(problems, fmt.Sprintf("want one of %v: %.120q", want, r.body))
			}
			if n > 0 {
				problems = append(problems, fmt.Sprintf("PASSWORD CHECKED (+%d)", n))
			}
			report("never a login, fresh address", sh, r, problems)
		}
	}

	// Bob's wrong password in every shape, from one fresh address: every
	// check that happened was counted, so at most shapeLimit happen.
	bobIP := nextIP()
	var checked []string
	bobStatuses := map[int]int{}
	for _, sh := range table {
		r, problems, n := send(bobIP, sh, "bob", "nope", false)
		bobStatuses[r.status]++
		if n > 0 {
			checked = append(checked, fmt.Sprintf("%s (%s)", sh.name, r))
		}
		report("bob, wrong password, one address", sh, r, problems)
	}
	if n := checksOf("bob"); n > shapeLimit {
		t.Errorf("SHAPE %s | bob, wrong password, one address | (all shapes) | - | UNCOUNTED GUESSES: bob's password was checked %d times, limit %d, by: %s",
			where, n, shapeLimit, strings.Join(checked, ", "))
	}

	// Requests the guard cannot read count against their address.
	if row.username {
		ip := nextIP()
		var got []int
		for range shapeLimit + 2 {
			got = append(got, exchange(t, a.addr, ip, api(loginJSON("carol", "x"), ct("text/plain"))).status)
		}
		ok := slices.Equal(got[:shapeLimit-1], slices.Repeat([]int{400}, shapeLimit-1)) &&
			(got[shapeLimit-1] == 400 || got[shapeLimit-1] == 429) &&
			slices.Equal(got[shapeLimit:], []int{429, 429})
		if !ok {
			t.Errorf("SHAPE %s | uncertain requests count against the address | JSON as text/plain ×%d | %v | want 400 until the address has %d failures, then 429",
				where, shapeLimit+2, got, shapeLimit)
		}
	}

	if lines, metric := a.storeAlarms(t); lines > 0 || metric > 0 {
		t.Errorf("SHAPE %s | end | (all shapes) | - | store alarms: %d \"axes: store error\" log lines, axes_store_errors_total %v", where, lines, metric)
	}
	t.Logf("FIGURE shapes %s: alice's statuses %v; bob's statuses %v; %s", where, statuses, bobStatuses, time.Since(began).Round(time.Millisecond))
}

// lastLine is the last line of logs that contains s, "" when none does.
func lastLine(logs, s string) string {
	i := strings.LastIndex(logs, s)
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(logs[:i], '\n') + 1
	end := strings.IndexByte(logs[i:], '\n')
	if end < 0 {
		return logs[start:]
	}
	return logs[start : i+end]
}

func (sh shape) end() ending { return sh.wire("u", "p").end }

// missingReason: a 400 says why, as {"error": …} when the request asks
// for JSON, else as text; "" when it does.
func missingReason(sh shape, r answer) string {
	if sh.wire("u", "p").path == "/api/login" {
		var m map[string]any
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			return fmt.Sprintf("the 400 is not JSON although the request asks for JSON: %.120q", r.body)
		}
		if s, _ := m["error"].(string); s == "" {
			return fmt.Sprintf("the 400's JSON has no \"error\" reason: %.120q", r.body)
		}
		return ""
	}
	if strings.TrimSpace(r.body) == "" {
		return "the 400 gives no reason"
	}
	return ""
}

// bombSize is what a gzip bomb inflates to: a login whose last field is
// about bombSize bytes of zeros.
const bombSize = 200 << 20

var bombs struct {
	once       sync.Once
	form, json []byte
}

// gzipBombs builds the bombs as gzip members one after the other (RFC
// 1952 §2.2; Go's and fasthttp's readers inflate them all as one body):
// the head of the login, bombSize/1 MiB members of 1 MiB of zeros each
// (one member compressed once, repeated), the tail. About 200 KB each,
// built in milliseconds.
func gzipBombs() (formBomb, jsonBomb []byte) {
	bombs.once.Do(func() {
		member := func(p []byte) []byte {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			_, _ = zw.Write(p)
			_ = zw.Close()
			return b.Bytes()
		}
		zeros := member(bytes.Repeat([]byte{'0'}, 1<<20))
		build := func(head, tail string) []byte {
			b := member([]byte(head))
			for range bombSize >> 20 {
				b = append(b, zeros...)
			}
			return append(b, member([]byte(tail))...)
		}
		bombs.form = build(login("alice", "wonderland")+"&pad=", "")
		bombs.json = build(`{"username":"alice","password":"wonderland","pad":"`, `"}`)
	})
	return bombs.form, bombs.json
}

// TestShapesGzipBombG10: a locked client's 200 MB-inflating gzip bombs
// (about 200 KB each, as a form and as JSON) are refused with the lockout
// status before anything is inflated: six at once grow the app's resident
// set (its peak, VmHWM, reset first) by less than 20 MB. One bomb of each
// kind is sent first and the six only when they pass, so that an app that
// inflates does not take gigabytes of a shared machine (fasthttp inflating
// one bomb peaks near 800 MB).
func TestShapesGzipBombG10(t *testing.T) {
	t.Parallel()
	formBomb, jsonBomb := gzipBombs()
	t.Logf("FIGURE gzip bomb: %d B (form), %d B (JSON) inflating to %d MB", len(formBomb), len(jsonBomb), bombSize>>20)
	for _, fw := range frameworks {
		for _, params := range []string{"ip_address", "username,ip_address"} {
			t.Run(fw+"/"+params, func(t *testing.T) {
				t.Parallel()
				a := startApp(t, fw, fmt.Sprintf("AXES_FAILURE_LIMIT=%d", shapeLimit), "AXES_COOLOFF_TIME=24h",
					"AXES_LOCKOUT_PARAMETERS="+params)
				where := fmt.Sprintf("%s [%s]", fw, params)
				ip := nextIP()
				for range shapeLimit {
					exchange(t, a.addr, ip, form(login("mallory", "x"), ct(formType)))
				}
				require.Equal(t, 429, exchange(t, a.addr, ip, form(login("mallory", "x"), ct(formType))).status, "%s: the client is locked", where)
				bomb := func(i int) answer {
					if i%2 == 0 {
						return exchange(t, a.addr, ip, form(string(formBomb), ct(formType), "Content-Encoding: gzip"))
					}
					return exchange(t, a.addr, ip, api(string(jsonBomb), ct(jsonType), "Content-Encoding: gzip"))
				}
				base := a.rssKB(t)
				a.resetPeakRSS(t)
				for i, kind := range []string{"form", "JSON"} {
					r := bomb(i)
					if peak := a.peakRSSKB(t); r.status != 429 || peak-base >= 20<<10 {
						t.Fatalf("SHAPE %s | locked client | gzip bomb, one %s | %s | want 429 and < 20 MB more RSS: RSS %d KB → peak %d KB (+%d MB)",
							where, kind, r, base, peak, (peak-base)>>10)
					}
				}
				var wg sync.WaitGroup
				got := make([]answer, 6)
				for i := range got {
					wg.Add(1)
					go func() { defer wg.Done(); got[i] = bomb(i) }()
				}
				wg.Wait()
				peak := a.peakRSSKB(t)
				var statuses []string
				for i, r := range got {
					statuses = append(statuses, r.String())
					if r.status != 429 {
						t.Errorf("SHAPE %s | locked client | gzip bomb %d of 6 at once | %s | want 429", where, i+1, r)
					}
				}
				if peak-base >= 20<<10 {
					t.Errorf("SHAPE %s | locked client | gzip bombs, six at once | %v | want < 20 MB more RSS: RSS %d KB → peak %d KB (+%d MB)",
						where, statuses, base, peak, (peak-base)>>10)
				}
				t.Logf("FIGURE gzip bomb %s: statuses %v; RSS %d KB, peak %d KB after the bombs", where, statuses, base, peak)
			})
		}
	}
}
