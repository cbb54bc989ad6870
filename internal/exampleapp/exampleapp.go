// Package exampleapp builds and runs the example apps (examples/<framework>)
// for end-to-end tests: each app runs as its own process on a free loopback
// port, and each client connects from a loopback address of its own, so the
// app tells clients apart by their socket address as it would in
// production.
package exampleapp

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
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

// Build compiles examples/<framework> into dir with the build tags the test
// binary was built with, and returns the binary's path.
func Build(t testing.TB, framework, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, framework)
	args := []string{"build", "-o", bin}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-tags" && s.Value != "" {
				args = append(args, "-tags", s.Value)
			}
		}
	}
	cmd := exec.Command("go", append(args, "./examples/"+framework)...)
	cmd.Dir = moduleRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./examples/%s: %s", framework, out)
	return bin
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err, "go env GOMOD")
	gomod := strings.TrimSpace(string(out))
	require.NotEmpty(t, gomod, "not inside the module")
	return filepath.Dir(gomod)
}

// App is a running example app.
type App struct {
	// URL is the base URL the app printed ("listening on …").
	URL  string
	logs *lockedBuffer
}

// Logs returns what the app wrote to its standard error so far.
func (a *App) Logs() string { return a.logs.String() }

// Start runs bin on a free loopback port with env added to the test's
// environment, from which every other AXES_* setting (AXES_TEST_* stay),
// ADDR and DEMO_USERS are removed. When the test ends it stops the app with
// SIGTERM and checks that it exits cleanly.
func Start(t testing.TB, bin string, env ...string) *App {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if (strings.HasPrefix(kv, "AXES_") && !strings.HasPrefix(kv, "AXES_TEST_")) ||
			strings.HasPrefix(kv, "ADDR=") || strings.HasPrefix(kv, "DEMO_USERS=") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, append([]string{"ADDR=127.0.0.1:0"}, env...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	app := &App{logs: &lockedBuffer{}}
	cmd.Stderr = app.logs
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
		case err := <-exited:
			assert.NoError(t, err, "the app exits cleanly on SIGTERM; its log:\n%s", app.Logs())
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the app did not stop within 10s of SIGTERM")
		}
	})
	select {
	case app.URL = <-urls:
		return app
	case err := <-exited:
		t.Fatalf("the app exited before listening: %v\n%s", err, app.Logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("the app printed no address within 30s\n%s", app.Logs())
	}
	return nil
}

// Client returns an HTTP client whose connections come from the loopback
// address ip (a client of its own to the app), with a cookie jar and no
// redirects followed.
func Client(t testing.TB, ip string) *http.Client {
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

// lockedBuffer collects an app's log from its goroutine.
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
