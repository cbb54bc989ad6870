// Command flood runs wrk against the nethttp example app, over real HTTP,
// and prints each result as a Go benchmark line (so that benchstat and
// benchtable read them with the rest):
//
//   - bare: a bare "200 OK" net/http handler (cmd/bare), the ceiling;
//
//   - json-locked, form-locked: one locked client flooding the JSON login
//     and the form login, on the memory store and on SQLite, with the size
//     of the stored attempt records (admin JSON) before and after; on
//     SQLite also the failures of the lockout counters in the file before
//     the flood and after the app's graceful stop (SIGTERM), next to the
//     refusals that the app answered, since each counts as a failure
//     (ResetCoolOffOnFailureDuringLockout);
//
//   - wrong-password: wrong passwords for a client that never locks (the
//     example's real bcrypt), with the guard on and off (AXES_ENABLED),
//     reporting the server's CPU time per request.
//
//     flood -example ./nethttp -bare ./bare -dir /tmp/x [-duration 10s] [-run sqlite]
//
// -run keeps the runs whose names (bare, memory, sqlite, wrong-password)
// match a regular expression.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // reads the lockout counters of the SQLite runs
)

var (
	example  = flag.String("example", "", "the nethttp example binary")
	bare     = flag.String("bare", "", "the bare 200 server binary")
	dir      = flag.String("dir", os.TempDir(), "a scratch directory")
	duration = flag.Duration("duration", 10*time.Second, "each wrk run")
	conns    = flag.Int("c", 64, "wrk connections")
	threads  = flag.Int("t", 2, "wrk threads")
	run      = flag.String("run", "", "only the runs whose names match this regular expression")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("flood: ")
	if *example == "" || *bare == "" {
		log.Fatal("need -example and -bare")
	}
	only, err := regexp.Compile(*run)
	if err != nil {
		log.Fatalf("-run: %v", err)
	}
	script := writeScripts()

	// The ceiling.
	if only.MatchString("bare") {
		srv := start(*bare, nil)
		r := wrk(srv.url+"/", "", *conns)
		report("bare", r, srv.cpu())
		srv.stop()
	}

	for _, store := range []string{"memory", "sqlite"} {
		if !only.MatchString(store) {
			continue
		}
		storeURL := "memory"
		dbPath := filepath.Join(*dir, "flood.db")
		if store == "sqlite" {
			storeURL = "sqlite:" + dbPath
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(dbPath + suffix)
			}
		}
		srv := start(*example, []string{"AXES_STORE=" + storeURL, "AXES_ADMIN_USERS=alice", "AXES_FAILURE_LIMIT=3"})
		// Lock 127.0.0.1 (wrk's source address) with three wrong passwords.
		for range 3 {
			post(srv.url+"/api/login", "application/json", `{"username":"mallory","password":"wrong"}`, nil)
		}
		admin := adminClient(srv.url)
		before := records(admin, srv.url)
		var countersBefore int64
		if store == "sqlite" {
			countersBefore = counterFailures(dbPath)
		}
		var refused int64
		for _, kind := range []string{"json", "form"} {
			r := wrk(srv.url+map[string]string{"json": "/api/login", "form": "/login"}[kind], script[kind], *conns)
			report(store+"/"+kind+"-locked", r, srv.cpu())
			refused += r.requests - r.bad
		}
		after := records(admin, srv.url)
		fmt.Printf("BenchmarkFlood/%s/records\t1\t0 ns/op\t%d rows-before\t%d rows-after\t%d bytes-before\t%d bytes-after\t%d failures-before\t%d failures-after\n",
			store, before.rows, after.rows, before.bytes, after.bytes, before.failures, after.failures)
		if store != "sqlite" {
			srv.stop()
			continue
		}
		// A graceful stop writes what the store still holds in memory.
		srv.terminate()
		countersAfter := counterFailures(dbPath)
		fmt.Printf("BenchmarkFlood/%s/counters\t1\t0 ns/op\t%d failures-before\t%d failures-after\t%d refusals\n",
			store, countersBefore, countersAfter, refused)
		if got := countersAfter - countersBefore; got < refused {
			log.Printf("sqlite: the counters gained %d failures for %d refusals answered: refusals were lost", got, refused)
		}
	}

	// What the guard adds to a failed login: wrong passwords for a client
	// that never locks, with the guard on and off, same bcrypt.
	for _, on := range []string{"true", "false"} {
		if !only.MatchString("wrong-password") {
			break
		}
		srv := start(*example, []string{"AXES_STORE=memory", "AXES_FAILURE_LIMIT=1000000000", "AXES_ENABLED=" + on})
		srv.cpu()
		r := wrk(srv.url+"/login", script["wrong"], 4)
		name := "wrong-password/guard"
		if on == "false" {
			name = "wrong-password/no-guard"
		}
		report(name, r, srv.cpu())
		srv.stop()
	}
}

// server is a started process with its base URL.
type server struct {
	cmd     *exec.Cmd
	url     string
	lastCPU time.Duration
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func start(bin string, env []string) *server {
	addr := freeAddr()
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "ADDR="+addr), env...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	s := &server{cmd: cmd, url: "http://" + addr}
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Fatalf("%s did not listen on %s", bin, addr)
	return nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_, _ = s.cmd.Process.Wait()
}

// terminate stops the server with SIGTERM, a graceful stop, and waits for
// it (killing it after 20s).
func (s *server) terminate() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _, _ = s.cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		log.Printf("%s did not stop on SIGTERM", s.url)
		s.stop()
	}
}

// counterFailures is the sum of the failures of the lockout counters in
// the SQLite file at path.
func counterFailures(path string) int64 {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var n sql.NullInt64
	if err := db.QueryRow("SELECT SUM(failures) FROM axes_counters").Scan(&n); err != nil {
		log.Printf("read the counters of %s: %v", path, err)
		return -1
	}
	return n.Int64
}

// cpu returns the process's CPU time (user + system) since the last call.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	total := time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
	d := total - s.lastCPU
	s.lastCPU = total
	return d
}

type wrkResult struct {
	requests     int64
	rps          float64
	socketErrors int64
	bad          int64 // responses with an unexpected status
}

var (
	reqsRe  = regexp.MustCompile(`(\d+) requests in`)
	rpsRe   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	sockRe  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	badRe   = regexp.MustCompile(`unexpected-status: (\d+)`)
	non2xxR = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

func wrk(target, script string, c int) wrkResult {
	args := []string{"-t", strconv.Itoa(*threads), "-c", strconv.Itoa(c), "-d", duration.String(), "--latency"}
	if script != "" {
		args = append(args, "-s", script)
	}
	out, err := exec.Command("wrk", append(args, target)...).CombinedOutput()
	if err != nil {
		log.Fatalf("wrk: %v\n%s", err, out)
	}
	var r wrkResult
	s := string(out)
	if m := reqsRe.FindStringSubmatch(s); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := rpsRe.FindStringSubmatch(s); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := sockRe.FindStringSubmatch(s); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			r.socketErrors += n
		}
	}
	if m := badRe.FindStringSubmatch(s); m != nil {
		r.bad, _ = strconv.ParseInt(m[1], 10, 64)
	} else if script == "" {
		if m := non2xxR.FindStringSubmatch(s); m != nil {
			r.bad, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	return r
}

func report(name string, r wrkResult, cpu time.Duration) {
	nsPerReq := 0.0
	cpuPerReq := 0.0
	if r.requests > 0 {
		nsPerReq = float64(*duration) / float64(r.requests)
		cpuPerReq = float64(cpu.Microseconds()) / 1000 / float64(r.requests)
	}
	fmt.Printf("BenchmarkFlood/%s\t%d\t%.0f ns/op\t%.0f req/s\t%d errors\t%.4f cpu-ms/req\n",
		name, r.requests, nsPerReq, r.rps, r.socketErrors+r.bad, cpuPerReq)
}

// writeScripts writes wrk's Lua scripts: each counts the responses whose
// status is not the expected one (429 for a locked client, 401 for a wrong
// password) and prints "unexpected-status: N".
func writeScripts() map[string]string {
	const counter = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= want then bad = bad + 1 end end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  io.write(string.format("unexpected-status: %d\n", n))
end
`
	scripts := map[string]string{
		"json":  `wrk.method = "POST"; wrk.body = '{"username":"mallory","password":"wrong"}'; wrk.headers["Content-Type"] = "application/json"; want = 429`,
		"form":  `wrk.method = "POST"; wrk.body = "username=mallory&password=wrong"; wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"; want = 429`,
		"wrong": `wrk.method = "POST"; wrk.body = "username=alice&password=wrong"; wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"; want = 401`,
	}
	paths := map[string]string{}
	for name, s := range scripts {
		p := filepath.Join(*dir, name+".lua")
		if err := os.WriteFile(p, []byte(s+counter), 0o644); err != nil {
			log.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

func post(u, ctype, body string, c *http.Client) *http.Response {
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Post(u, ctype, strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// adminClient logs alice in from 127.0.0.2 (a client other than the locked
// one) and returns a client with her session.
func adminClient(base string) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c := &http.Client{Jar: jar, Transport: &http.Transport{DialContext: func(ctx context.Context, n, a string) (net.Conn, error) {
		return d.DialContext(ctx, n, a)
	}}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := post(base+"/login", "application/x-www-form-urlencoded", url.Values{"username": {"alice"}, "password": {"wonderland"}}.Encode(), c)
	if resp.StatusCode != http.StatusSeeOther {
		log.Printf("admin login: status %d", resp.StatusCode)
	}
	return c
}

type recordSize struct{ rows, bytes, failures int64 }

var failuresRe = regexp.MustCompile(`"failures(?:_since_start)?"\s*:\s*(\d+)`)

// records reads the attempt records from the admin page's JSON: how many,
// how many bytes, and the failures they count.
func records(c *http.Client, base string) recordSize {
	resp, err := c.Get(base + "/admin/axes/attempts?format=json")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		log.Printf("admin attempts: status %d", resp.StatusCode)
		return recordSize{rows: -1, bytes: -1, failures: -1}
	}
	var r recordSize
	for _, m := range failuresRe.FindAllSubmatch(body, -1) {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		r.rows++
		r.failures += n
	}
	// The size of the records without the digits of their counters and
	// times, which a refusal may change: what a refusal appends shows.
	r.bytes = int64(len(regexp.MustCompile(`\d`).ReplaceAll(body, nil)))
	return r
}
