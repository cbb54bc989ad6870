package axesprom_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExamplesServeMetrics builds each example app, attacks it (three
// wrong passwords lock the client, two more attempts are refused), logs in
// and out from another client, then scrapes /metrics and finds the counts
// the attack caused, and reads the start-up line in the app's log.
func TestExamplesServeMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example apps")
	}
	dir := t.TempDir()
	for _, fw := range []string{"nethttp", "gin", "echo", "fiber"} {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			base, logs := startExample(t, buildExample(t, fw, dir), "AXES_COOLOFF_TIME=30m")

			attacker := loopbackClient(t, "127.0.0.21")
			bad := url.Values{"username": {"alice"}, "password": {"nope"}}
			for i, want := range []int{401, 401, 429, 429, 429} {
				assert.Equal(t, want, post(t, attacker, base+"/login", bad), "attempt %d", i+1)
			}
			user := loopbackClient(t, "127.0.0.22")
			assert.Equal(t, 303, post(t, user, base+"/login", url.Values{"username": {"bob"}, "password": {"builder"}}))
			assert.Equal(t, 303, post(t, user, base+"/logout", nil))

			resp, err := user.Get(base + "/metrics")
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			metrics := string(body)
			lines := map[string]bool{}
			var brief []string // the failure message leaves out buckets and help
			for _, l := range strings.Split(metrics, "\n") {
				lines[l] = true
				if !strings.Contains(l, "_bucket{") && !strings.HasPrefix(l, "#") {
					brief = append(brief, l)
				}
			}
			for _, line := range []string{
				"axes_login_failures_total 3",
				"axes_lockouts_total 1",
				`axes_refused_total{reason="locked"} 2`,
				"axes_logins_total 1",
				"axes_logouts_total 1",
				`axes_store_errors_total{policy="unavailable"} 0`,
				`axes_store_operation_duration_seconds_count{op="hit"} 6`,
				`axes_store_operation_duration_seconds_count{op="record_failure"} 3`,
				"axes_locked_clients 1",
			} {
				assert.True(t, lines[line], "want %q in /metrics:\n%s", line, strings.Join(brief, "\n"))
			}
			assert.NotContains(t, metrics, "alice", "no username in the metrics")
			assert.NotContains(t, metrics, "127.0.0.21", "no IP in the metrics")

			log := logs()
			assert.Contains(t, log, "axes: BEGIN version ")
			assert.Contains(t, log, "blocking by ip_address")
			assert.Contains(t, log, "axes: the memory store keeps lockouts in this process")
		})
	}
}

func buildExample(t *testing.T, fw, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, fw)
	args := []string{"build", "-o", bin}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-tags" && s.Value != "" {
				args = append(args, "-tags", s.Value)
			}
		}
	}
	cmd := exec.Command("go", append(args, "./examples/"+fw)...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./examples/%s: %s", fw, out)
	return bin
}

// lockedBuffer collects the app's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startExample runs bin on a free port with env (and no other AXES_*
// variable), stops it with SIGTERM at the end of the test, and returns its
// base URL and a function that returns its log so far.
func startExample(t *testing.T, bin string, env ...string) (string, func() string) {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AXES_") && !strings.HasPrefix(kv, "ADDR=") && !strings.HasPrefix(kv, "DEMO_USERS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append([]string{"ADDR=127.0.0.1:0"}, env...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urls <- u
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the app did not stop within 10s of SIGTERM")
		}
	})
	select {
	case u := <-urls:
		return u, stderr.String
	case err := <-exited:
		t.Fatalf("the app exited before listening: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the app printed no address within 30s\n%s", stderr.String())
	}
	return "", nil
}

// loopbackClient connects from the loopback address ip (each one a client
// of its own), keeps cookies and does not follow redirects.
func loopbackClient(t *testing.T, ip string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func post(t *testing.T, c *http.Client, u string, form url.Values) int {
	t.Helper()
	resp, err := c.PostForm(u, form)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
