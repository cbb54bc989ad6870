package attack_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// TestBadInput throws malformed, oversized and hostile requests at every
// example: each gets a 4xx (or, for bytes that are not HTTP, a closed
// connection), never a 5xx, a hang or a panic, and afterwards other
// clients' counts are what they were.
func TestBadInput(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a", 1<<20)
	var fields strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&fields, "f%d=%d&", i, i)
	}
	fields.WriteString("username=alice&password=x")
	nested := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	bodies := []struct {
		name, path, contentType, body string
	}{
		{"malformed form", "/login", "form", "%zz=%%&username=%ff%&password=%"},
		{"invalid JSON", "/api/login", "json", `{"username": "alice", "password": }`},
		{"JSON not an object", "/api/login", "json", `["alice", "x"]`},
		{"JSON with wrong types", "/api/login", "json", `{"username": {"$ne": 1}, "password": [1]}`},
		{"deeply nested JSON", "/api/login", "json", `{"username":` + nested + `}`},
		{"invalid UTF-8 in a form", "/login", "form", "username=%ff%fe%fd&password=x"},
		{"invalid UTF-8 in JSON", "/api/login", "json", "{\"username\":\"\xff\xfe\xfd\",\"password\":\"x\"}"},
		{"NUL bytes in a form", "/login", "form", "username=al%00ice&password=x%00y"},
		{"NUL bytes in JSON", "/api/login", "json", `{"username":"al\u0000ice","password":"x\u0000"}`},
		{"raw NUL bytes", "/login", "form", "username=al\x00ice&password=x"},
		{"1 MB username in a form", "/login", "form", "username=" + big + "&password=x"},
		{"1 MB username in JSON", "/api/login", "json", `{"username":"` + big + `","password":"x"}`},
		{"5000 form fields", "/login", "form", fields.String()},
		// fiber answers 413 at its 4 MB body limit and closes the
		// connection before reading the rest: the client may see a reset.
		{"12 MB form body", "/login", "form", "username=alice&password=x&pad=" + strings.Repeat("b", 12<<20)},
		{"empty body", "/login", "form", ""},
		{"text/plain body", "/login", "text/plain", "username=alice&password=x"},
		{"multipart with a broken boundary", "/login", "multipart/form-data; boundary=zzz", "--zzz\r\ngarbage"},
		{"multipart without a boundary", "/login", "multipart/form-data", "whatever"},
	}
	// Each raw request must get a 4xx or a closed connection (0); an
	// unknown HTTP version may get 505.
	raw := []struct{ name, req string }{
		{"bad Content-Length", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"},
		{"two Content-Lengths", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\nusername=a"},
		{"header line without a colon", "POST /login HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n"},
		{"bad chunk size", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nusername=alice\r\n0\r\n\r\n"},
		{"binary in forwarded headers", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Forwarded-For: \xff\xfe, ::::\r\nX-Real-IP: \x01\r\nForwarded: for=\"[::1\r\nContent-Length: 25\r\n\r\nusername=alice&password=x"},
		{"2 MB header", "POST /login HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("h", 2<<20) + "\r\nContent-Length: 0\r\n\r\n"},
		{"not HTTP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"},
		{"bad method and path", "P\x00ST /log\x7fin HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"HTTP/9", "POST /login HTTP/9.9\r\nHost: x\r\n\r\n"},
	}
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			a := startApp(t, fw)
			witness := client(t, nextIP(), 1)
			r := mustPost(t, witness, a.base+"/login", "form", formBody("username", "alice", "password", "x"))
			require.Equal(t, 2, attemptsLeft(r.body), "the witness's first failure")
			outcomes := map[string]int{}
			for _, b := range bodies {
				// Each case from an address of its own, so that a case
				// that counts as a failure locks nobody else.
				r := post(client(t, nextIP(), 1), a.base+b.path, b.contentType, b.body)
				if r.err != nil && len(b.body) > 4<<20 && (strings.Contains(r.err.Error(), "broken pipe") || strings.Contains(r.err.Error(), "connection reset")) {
					outcomes[b.name] = 0 // refused before the body was read
					continue
				}
				require.NoError(t, r.err, b.name)
				outcomes[b.name] = r.status
				assert.True(t, r.status >= 400 && r.status < 500, "%s: got %d, want a 4xx: %s", b.name, r.status, tail(r.body, 200))
			}
			for _, c := range raw {
				t.Run(c.name, func(t *testing.T) {
					status := rawRequest(t, a.addr, nextIP(), c.req)
					outcomes[c.name] = status
					assert.True(t, status == 0 || (status >= 400 && status < 500) || (c.name == "HTTP/9" && status == 505), "%s: got %d, want a 4xx or a closed connection", c.name, status)
				})
			}
			t.Logf("FIGURE bad input %s: %v", fw, outcomes)
			r = mustPost(t, witness, a.base+"/login", "form", formBody("username", "alice", "password", "x"))
			assert.Equal(t, 1, attemptsLeft(r.body), "the witness's count went from 1 to 2, no more (%d)", r.status)
			r = mustPost(t, client(t, nextIP(), 1), a.base+"/login", "form", formBody("username", "alice", "password", "x"))
			assert.Equal(t, 2, attemptsLeft(r.body), "a fresh client starts fresh: no shared bucket (%d)", r.status)
		})
	}
}

// rawRequest writes req on a fresh connection from ip and returns the
// response's status, or 0 when the server closed the connection without
// one. It fails the test when nothing happens within 10s.
func rawRequest(t *testing.T, addr, ip, req string) int {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = io.WriteString(conn, req) }() // the server may answer before reading it all
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		var ne net.Error
		if errorsAs(err, &ne) && ne.Timeout() {
			t.Errorf("no answer within 10s to %.60q", req)
		}
		return 0
	}
	var proto string
	var status int
	if _, err := fmt.Sscanf(line, "%s %d", &proto, &status); err != nil {
		t.Errorf("not a status line: %q", line)
	}
	return status
}

func errorsAs(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

// TestSlowloris: a client that sends its headers or its body a byte at a
// time must not stop the app from serving others, and the server must cut
// it off after a read deadline.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			a := startApp(t, fw)
			// 40 slow clients hold connections open while a normal client
			// logs in.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := range 40 {
				go drip(ctx, a.addr, nextIP(), i%2 == 0)
			}
			time.Sleep(500 * time.Millisecond)
			c := client(t, nextIP(), 1)
			c.Timeout = 5 * time.Second
			began := time.Now()
			r := mustPost(t, c, a.base+"/login", "form", formBody("username", "alice", "password", "wonderland"))
			assert.Equal(t, http.StatusSeeOther, r.status, "a normal login during the slowloris")
			t.Logf("FIGURE slowloris %s: a normal login took %s with 40 slow clients", fw, time.Since(began).Round(time.Millisecond))

			t.Run("slow headers are cut off", func(t *testing.T) {
				cut := dripUntilCut(t, a.addr, nextIP(), false, 16*time.Second)
				t.Logf("FIGURE slowloris %s: slow headers cut after %s", fw, cut.Round(time.Millisecond))
				assert.Less(t, cut, 16*time.Second, "the server cuts a client that never finishes its headers")
			})
			t.Run("a body that never ends is cut off", func(t *testing.T) {
				cut := dripUntilCut(t, a.addr, nextIP(), true, 16*time.Second)
				assert.Less(t, cut, 16*time.Second, "the server cuts a client whose body never ends")
			})
		})
	}
}

const slowHead = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n"

// drip connects from ip and sends a request a byte every 200ms: its
// headers (body false) or, after whole headers, its body (body true),
// until ctx ends or the server closes the connection.
func drip(ctx context.Context, addr, ip string, body bool) time.Duration {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	began := time.Now()
	if body {
		if _, err := io.WriteString(conn, slowHead+"\r\nusername=alice&password="); err != nil {
			return time.Since(began)
		}
	}
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, conn); close(closed) }()
	src := slowHead
	for i := 0; ; i++ {
		b := byte('a')
		if !body {
			b = src[i%len(src)]
		}
		if _, err := conn.Write([]byte{b}); err != nil {
			return time.Since(began)
		}
		select {
		case <-ctx.Done():
			return time.Since(began)
		case <-closed:
			return time.Since(began)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// dripUntilCut drips for at most limit and returns how long the server
// took to close the connection (limit when it did not).
func dripUntilCut(t *testing.T, addr, ip string, body bool, limit time.Duration) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	return drip(ctx, addr, ip, body)
}

// TestBadStartup: bad settings and bad store URLs stop the app at start-up
// with a non-zero exit and a message naming the variable, never echoing a
// password.
func TestBadStartup(t *testing.T) {
	t.Parallel()
	closed := freePort(t)
	cases := []struct {
		env, want string
	}{
		{"AXES_FAILURE_LIMIT=0", "AXES_FAILURE_LIMIT"},
		{"AXES_FAILURE_LIMIT=abc", "AXES_FAILURE_LIMIT"},
		{"AXES_FAILURE_LIMIT=99999999999999999999", "AXES_FAILURE_LIMIT"},
		{"AXES_COOLOFF_TIME=soon", "AXES_COOLOFF_TIME"},
		{"AXES_COOLOFF_TIME=-5m", "AXES_COOLOFF_TIME"},
		{"AXES_LOCKOUT_PARAMETERS=password", "AXES_LOCKOUT_PARAMETERS"},
		{"AXES_LOCKOUT_PARAMETERS=username+", "AXES_LOCKOUT_PARAMETERS"},
		{"AXES_TRUSTED_PROXIES=not-an-ip", "AXES_TRUSTED_PROXIES"},
		{"AXES_IP_WHITELIST=10.0.0.0/33", "AXES_IP_WHITELIST"},
		{"AXES_IPV6_PREFIX=129", "AXES_IPV6_PREFIX"},
		{"AXES_HTTP_RESPONSE_CODE=42", "AXES_HTTP_RESPONSE_CODE"},
		{"AXES_FAIL_OPEN=maybe", "AXES_FAIL_OPEN"},
		{"AXES_STORE_TIMEOUT=-1s", "AXES_STORE_TIMEOUT"},
		{"AXES_CLIENT_IP_HEADER=X-Client-IP", "AXES_CLIENT_IP_HEADER"},
		{"AXES_MAX_BODY_BYTES=0", "AXES_MAX_BODY_BYTES"},
		{"AXES_LOCKOUT_TEMPLATE=/nonexistent/lockout.html", "AXES_LOCKOUT_TEMPLATE"},
		{"DEMO_USERS=nocolon", "DEMO_USERS"},
		{"AXES_STORE=ftp://x", "store URL"},
		{"AXES_STORE=sqlite:", "store URL"},
		{"AXES_STORE=sqlite:/nonexistent/dir/axes.db", "sqlite"},
		{"AXES_STORE=postgres://u:Sekr1tPw@[::1", "store URL"},
		{fmt.Sprintf("AXES_STORE=postgres://u:Sekr1tPw@127.0.0.1:%d/db?connect_timeout=5", closed), "pgstore"},
	}
	bin := binary(t, "nethttp")
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			t.Parallel()
			out, code := runToExit(t, bin, c.env)
			assert.NotZero(t, code, "a bad setting exits non-zero: %s", out)
			assert.Contains(t, out, c.want, "the message names the problem")
			assert.NotContains(t, out, "Sekr1tPw", "no password in the message")
			assert.NotContains(t, strings.ToLower(out), "panic")
		})
	}
	t.Run("every framework", func(t *testing.T) {
		for _, fw := range frameworks {
			out, code := runToExit(t, binary(t, fw), "AXES_FAILURE_LIMIT=-1", "AXES_IPV6_PREFIX=0")
			assert.NotZero(t, code, fw)
			assert.Contains(t, out, "AXES_FAILURE_LIMIT", fw)
			assert.Contains(t, out, "AXES_IPV6_PREFIX", "%s: every bad variable is reported", fw)
		}
	})
	t.Run("store errors name AXES_STORE", func(t *testing.T) {
		out, _ := runToExit(t, bin, "AXES_STORE=ftp://x")
		assert.Contains(t, out, "AXES_STORE")
	})
	t.Run("a redis URL with a password is not logged", func(t *testing.T) {
		a := startApp(t, "nethttp", fmt.Sprintf("AXES_STORE=redis://:Sekr1tPw@127.0.0.1:%d/0", closed))
		assert.NotContains(t, a.logs(t), "Sekr1tPw")
	})
}

// runToExit runs bin with env and returns its output and exit code; the
// app must exit within 20s.
func runToExit(t *testing.T, bin string, env ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(baseEnv(), "ADDR=127.0.0.1:0")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "the app did not exit within 20s: %s", out)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return string(out), code
}

// TestUnresolvableAddress: a request whose peer address cannot be parsed
// (something no socket gives, so tested in-process) is refused as unknown,
// never pooled into one shared bucket that would lock everybody out
// (django-axes #261, #1099).
func TestUnresolvableAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	for _, addr := range []string{"", "garbage", "[::1", "999.1.1.1:80", "1.2.3.4:99999:1", "\x00", "unix:/tmp/sock"} {
		for range 5 {
			a := e.Begin(ctx, &core.Request{RemoteAddr: addr, Method: "POST", Path: "/login", Username: "alice"})
			assert.Equal(t, core.UnknownClient, a.Decision().Outcome, "RemoteAddr %q", addr)
			a.Fail(ctx)
			if resp := a.Response(); assert.NotNil(t, resp) {
				assert.Equal(t, http.StatusForbidden, resp.Status)
			}
		}
	}
	a := e.Begin(ctx, &core.Request{RemoteAddr: "198.51.100.1:1234", Method: "POST", Path: "/login", Username: "alice"})
	assert.Equal(t, core.Allowed, a.Decision().Outcome, "a resolvable client is not locked by the unknown ones")
	assert.Zero(t, a.Decision().Failures)
}
