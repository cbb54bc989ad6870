package axesprom_test

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/internal/exampleapp"
)

// TestExamplesServeMetrics builds each example app, attacks it (three
// wrong passwords lock the client, two more attempts are refused), logs in
// and out from another client, then scrapes /metrics and finds the counts
// the attack caused, and reads the start-up line in the app's log. The apps
// run on SQLite: they time the operations of every store but the memory
// store.
func TestExamplesServeMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example apps")
	}
	dir := t.TempDir()
	for _, fw := range []string{"nethttp", "gin", "echo", "fiber"} {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			app := exampleapp.Start(t, exampleapp.Build(t, fw, dir), "AXES_COOLOFF_TIME=30m",
				"AXES_STORE=sqlite:"+filepath.Join(t.TempDir(), "axes.db"))
			base := app.URL

			attacker := exampleapp.Client(t, "127.0.0.21")
			bad := url.Values{"username": {"alice"}, "password": {"nope"}}
			for i, want := range []int{401, 401, 429, 429, 429} {
				assert.Equal(t, want, post(t, attacker, base+"/login", bad), "attempt %d", i+1)
			}
			user := exampleapp.Client(t, "127.0.0.22")
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

			log := app.Logs()
			assert.Contains(t, log, "axes: BEGIN version ")
			assert.Contains(t, log, "blocking by ip_address")
			assert.Contains(t, log, "store=sqlite:")
		})
	}
}

func post(t *testing.T, c *http.Client, u string, form url.Values) int {
	t.Helper()
	resp, err := c.PostForm(u, form)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
