// Package attack_test attacks the example apps over real HTTP (docs/design.md §4,
// G1–G8; issue 6): parallel races against the limit, spoofed forwarded
// headers, username spellings, key spraying, bad input, secrets in stores
// and logs, and store outages. Each example is built once with go build
// (not race-instrumented) and started as a process on a free loopback port;
// clients are told apart by their source address (127.0.0.2, 127.0.0.3, …),
// never by a header. Redis and PostgreSQL are this package's own instances,
// started on free ports, so that stopping them disturbs no other test.
//
// Tests that need Redis or PostgreSQL skip when the binaries are missing,
// and fail instead when AXES_REQUIRE_SERVICES=1 (make test).
package attack_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var frameworks = []string{"nethttp", "gin", "echo", "fiber"}

// binDir holds the example binaries, built once per framework.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "axes-attack-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	stopShared()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var builds sync.Map // framework → *buildOnce

type buildOnce struct {
	once sync.Once
	bin  string
	err  error
}

// binary builds ./examples/<fw> once (with this test's build tags) and
// returns the path of the binary.
func binary(t testing.TB, fw string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(fw, &buildOnce{})
	b := v.(*buildOnce)
	b.once.Do(func() {
		b.bin = filepath.Join(binDir, fw)
		args := []string{"build", "-o", b.bin}
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "-tags" && s.Value != "" {
					args = append(args, "-tags", s.Value)
				}
			}
		}
		cmd := exec.Command("go", append(args, "./examples/"+fw)...)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./examples/%s: %v: %s", fw, err, out)
		}
	})
	require.NoError(t, b.err)
	return b.bin
}

// app is one running example process.
type app struct {
	fw      string
	base    string // http://127.0.0.1:PORT
	addr    string // 127.0.0.1:PORT
	debug   string // the AXES_DEMO_DEBUG_ADDR probe's base URL
	logPath string // the process's stderr (its slog lines)
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startApp runs the example fw with env (plus ADDR on a free port and the
// debug probe; no AXES_* from the test's environment) and stops it with
// SIGTERM when the test ends, then fails the test when its stderr mentions
// a panic.
func startApp(t testing.TB, fw string, env ...string) *app {
	t.Helper()
	return startAppAt(t, fw, "127.0.0.1:0", env...)
}

func startAppAt(t testing.TB, fw, addr string, env ...string) *app {
	t.Helper()
	bin := binary(t, fw)
	a := &app{fw: fw, exited: make(chan struct{})}
	logf, err := os.CreateTemp(binDir, fw+"-*.log")
	require.NoError(t, err)
	a.logPath = logf.Name()
	a.cmd = exec.Command(bin)
	a.cmd.Env = baseEnv()
	a.cmd.Env = append(a.cmd.Env, "ADDR="+addr, "AXES_DEMO_DEBUG_ADDR=127.0.0.1:0")
	a.cmd.Env = append(a.cmd.Env, env...)
	a.cmd.Stderr = logf
	stdout, err := a.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, a.cmd.Start())
	_ = logf.Close()
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		a.waitErr = a.cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		a.stop(t)
		if logs := a.logs(t); strings.Contains(strings.ToLower(logs), "panic") {
			t.Errorf("%s: the app's stderr mentions a panic:\n%s", fw, tail(logs, 4000))
		}
	})
	deadline := time.After(30 * time.Second)
	for a.base == "" {
		select {
		case l := <-lines:
			if u, ok := strings.CutPrefix(l, "debug on "); ok {
				a.debug = u
			}
			if u, ok := strings.CutPrefix(l, "listening on "); ok {
				a.base = u
				a.addr = strings.TrimPrefix(u, "http://")
			}
		case <-a.exited:
			t.Fatalf("%s exited before listening: %v\n%s", fw, a.waitErr, a.logs(t))
		case <-deadline:
			t.Fatalf("%s printed no address within 30s\n%s", fw, a.logs(t))
		}
	}
	require.NotEmpty(t, a.debug, "the demo prints its debug address before listening")
	return a
}

// baseEnv is the test's environment without AXES_*, ADDR and DEMO_USERS.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AXES_") && !strings.HasPrefix(kv, "ADDR=") && !strings.HasPrefix(kv, "DEMO_USERS=") {
			env = append(env, kv)
		}
	}
	return env
}

// stop sends SIGTERM and waits (at most 10s, then SIGKILL).
func (a *app) stop(t testing.TB) {
	select {
	case <-a.exited:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
		assert.NoError(t, a.waitErr, "%s exits cleanly on SIGTERM", a.fw)
	case <-time.After(10 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.exited
		t.Errorf("%s did not stop within 10s of SIGTERM", a.fw)
	}
}

func (a *app) logs(t testing.TB) string {
	b, err := os.ReadFile(a.logPath)
	if err != nil {
		t.Errorf("read %s: %v", a.logPath, err)
	}
	return string(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// probe is what the demo's debug address reports.
type probe struct {
	Checks       int64            `json:"checks"`
	ChecksByUser map[string]int64 `json:"checks_by_user"` // as the login handler named the user
	Goroutines   int              `json:"goroutines"`
	HeapInuse    uint64           `json:"heap_inuse"`
}

func (a *app) probe(t testing.TB) probe {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(a.debug + "/debug/checks")
	require.NoError(t, err)
	defer resp.Body.Close()
	var p probe
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	return p
}

// rssKB reads the process's resident set size from /proc.
func (a *app) rssKB(t testing.TB) int {
	t.Helper()
	return a.procStatus(t, "VmRSS")
}

// peakRSSKB reads the process's peak resident set size (VmHWM) from /proc:
// the peak since start or since resetPeakRSS.
func (a *app) peakRSSKB(t testing.TB) int {
	t.Helper()
	return a.procStatus(t, "VmHWM")
}

// resetPeakRSS sets the process's peak resident set size to its current
// one (Linux's clear_refs 5).
func (a *app) resetPeakRSS(t testing.TB) {
	t.Helper()
	require.NoError(t, os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", a.cmd.Process.Pid), []byte("5"), 0))
}

// procStatus reads a kB field of /proc/PID/status.
func (a *app) procStatus(t testing.TB, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no %s in /proc status", field)
	return 0
}

// client connects from the loopback address ip (each such address is a
// client of its own), keeps cookies, does not follow redirects and keeps
// up to conns connections alive.
func client(t testing.TB, ip string, conns int) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConns: conns, MaxIdleConnsPerHost: conns,
		IdleConnTimeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// oneShot is a client from a fresh address that keeps no connection
// alive (so that it leaves no goroutine behind in the server).
func oneShot(t testing.TB) *http.Client {
	c := client(t, nextIP(), 1)
	c.Transport.(*http.Transport).DisableKeepAlives = true
	return c
}

// result is a response read whole.
type result struct {
	status int
	header http.Header
	body   string
	err    error
}

// post sends a login attempt: contentType "form" or "json" or a real type.
func post(c *http.Client, u, contentType, body string, header ...string) result {
	switch contentType {
	case "form":
		contentType = "application/x-www-form-urlencoded"
	case "json":
		contentType = "application/json"
	}
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func formBody(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func jsonLogin(user, pass string) string {
	b, _ := json.Marshal(map[string]string{"username": user, "password": pass})
	return string(b)
}

// mustPost is post that fails the test on a transport error.
func mustPost(t testing.TB, c *http.Client, u, contentType, body string, header ...string) result {
	t.Helper()
	r := post(c, u, contentType, body, header...)
	require.NoError(t, r.err, "POST %s", u)
	return r
}

// attemptsLeft reads "N attempts left" (or "1 attempt left") from a 401
// login form; -1 when the page says nothing of the kind.
func attemptsLeft(body string) int {
	for _, word := range []string{" attempts left", " attempt left"} {
		if i := strings.Index(body, word); i > 0 {
			j := i
			for j > 0 && body[j-1] >= '0' && body[j-1] <= '9' {
				j--
			}
			if n, err := strconv.Atoi(body[j:i]); err == nil {
				return n
			}
		}
	}
	return -1
}

// ipSeq hands out loopback client addresses no other test of this package
// uses: 127.1.x.y.
var ipSeq atomic.Int32

func nextIP() string {
	n := ipSeq.Add(1)
	return fmt.Sprintf("127.1.%d.%d", n/250, n%250+1)
}

// requireServices reports whether a test needing real services may run:
// false (after t.Skip) when they are missing and AXES_REQUIRE_SERVICES is
// not 1; a failure when it is.
func requireServices(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is required (AXES_REQUIRE_SERVICES=1): %v", what, err)
	}
	t.Skipf("%s unavailable: %v", what, err)
}

// freePort returns a loopback port nobody listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond every 50ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ctxT is a context for a test step, bounded.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
