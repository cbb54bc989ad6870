package e2e_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/internal/exampleapp"
	"github.com/goaxes/axes/internal/leakcheck"
)

// TestNoSecretInAppOutput starts an example app (they share the code that
// opens the store and logs it) on every form of leakcheck, on an address
// where nothing listens and on the test servers: whether the app starts
// and logs its store, or stops on the error of opening it, nothing it
// prints shows a secret.
func TestNoSecretInAppOutput(t *testing.T) {
	bin := exampleapp.Build(t, "nethttp", t.TempDir())
	started := map[string]bool{}
	for where, addr := range leakcheck.Addresses(t) {
		for _, f := range leakcheck.Forms(addr[0], addr[1]) {
			t.Run(where+"/"+f.Name, func(t *testing.T) {
				out, listening := runApp(t, bin, "AXES_STORE="+f.URL)
				if listening {
					started[where+"/"+f.Name] = true
					assert.Contains(t, out, "store=", "the start line names the store")
				} else {
					assert.Contains(t, out, "AXES_STORE", "the app says why it stopped")
				}
				leakcheck.NoSecret(t, f, "the app's output", out)
			})
		}
	}
	if _, ok := leakcheck.Addresses(t)["reachable"]; ok {
		// The start line of the issue: a URL with the password in the user
		// info or in a parameter, on a server that lets it in.
		for _, name := range []string{"postgres user info", "postgres password parameter", "postgres sslpassword parameter", "postgres encoded password"} {
			assert.True(t, started["reachable/"+name], "the app on %q started and logged its store", name)
		}
	}
}

// runApp runs bin with env until it listens or exits, stops it, and returns
// what it printed (stdout and stderr) and whether it listened.
func runApp(t *testing.T, bin string, env ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AXES_") && !strings.HasPrefix(kv, "ADDR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append([]string{"ADDR=127.0.0.1:0"}, env...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var out strings.Builder
	listening := make(chan bool, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !said && strings.HasPrefix(sc.Text(), "listening on ") {
				said = true
				listening <- true
			}
		}
		if !said {
			listening <- false
		}
	}()
	var ok bool
	select {
	case ok = <-listening:
	case <-time.After(30 * time.Second):
		t.Error("the app neither listened nor exited within 30s")
	}
	// The app catches SIGTERM before it says "listening on", and stops
	// gracefully: its start line is written by then.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	<-done
	_ = cmd.Wait()
	return out.String() + stderr.String(), ok
}
