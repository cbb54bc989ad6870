// Package e2e_test drives the example apps as a newcomer would: it builds
// each with go build, starts it on a free loopback port and talks HTTP to
// it from distinct loopback addresses (each one a client of its own).
package e2e_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/internal/exampleapp"
)

var frameworks = []string{"nethttp", "gin", "echo", "fiber"}

func TestExamples(t *testing.T) {
	dir := t.TempDir()
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			bin := build(t, fw, dir)
			t.Run("default settings", func(t *testing.T) {
				base := start(t, bin, "AXES_COOLOFF_TIME=30m", "AXES_ADMIN_USERS=alice")
				loginLogoutAndLockout(t, base)
				jsonLogin(t, base)
				missingFieldNotCounted(t, base)
			})
			t.Run("username field login", func(t *testing.T) {
				base := start(t, bin, "AXES_USERNAME_FORM_FIELD=login")
				c := client(t, "127.0.0.5")
				resp, body := do(t, c, http.MethodPost, base+"/login", form("login", "alice", "password", "wonderland"))
				assert.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
				resp, body = do(t, c, http.MethodPost, base+"/api/login", jsonBody(`{"login":"bob","password":"builder"}`))
				assert.Equal(t, http.StatusOK, resp.StatusCode, body)
				resp, body = do(t, c, http.MethodGet, base+"/login", nil)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Contains(t, body, `name="login"`)
			})
		})
	}
}

func loginLogoutAndLockout(t *testing.T, base string) {
	c := client(t, "127.0.0.2")
	resp, body := do(t, c, http.MethodGet, base+"/login", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `name="username"`)

	resp, body = do(t, c, http.MethodPost, base+"/login", form("username", "alice", "password", "wonderland"))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	assert.Equal(t, "/", resp.Header.Get("Location"))
	_, body = do(t, c, http.MethodGet, base+"/", nil)
	assert.Contains(t, body, "Logged in as <strong>alice</strong>")
	resp, body = do(t, c, http.MethodGet, base+"/admin/axes/attempts", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "alice is in AXES_ADMIN_USERS: %s", body)
	resp, _ = do(t, c, http.MethodPost, base+"/logout", nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/login", resp.Header.Get("Location"))
	_, body = do(t, c, http.MethodGet, base+"/", nil)
	assert.Contains(t, body, "Nobody is logged in")
	resp, _ = do(t, c, http.MethodGet, base+"/admin/axes/", nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the admin page refuses anonymous users")

	bad := form("username", "alice", "password", "nope")
	resp, body = do(t, c, http.MethodPost, base+"/login", bad)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, "2 attempts left")
	resp, body = do(t, c, http.MethodPost, base+"/login", bad)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, "1 attempt left")
	resp, body = do(t, c, http.MethodPost, base+"/login", bad)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the 3rd failure is answered with the lockout")
	assert.Equal(t, "1800", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "Account locked")

	resp, _ = do(t, c, http.MethodPost, base+"/login", form("username", "alice", "password", "wonderland"))
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the right password is refused while locked")
	resp, body = do(t, c, http.MethodPost, base+"/api/login", jsonBody(`{"username":"alice","password":"wonderland"}`))
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, body, `"failure_limit":3`)
	assert.Contains(t, body, `"cooloff_time":"PT30M"`)
}

func jsonLogin(t *testing.T, base string) {
	c := client(t, "127.0.0.3")
	resp, body := do(t, c, http.MethodPost, base+"/api/login", jsonBody(`{"username":"bob","password":"builder"}`))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"message":"success!"}`, body)
	resp, _ = do(t, c, http.MethodGet, base+"/admin/axes/", nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "bob is logged in but no admin")
	resp, _ = do(t, c, http.MethodPost, base+"/api/login", jsonBody(`{"username":"bob","password":"nope"}`))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = do(t, c, http.MethodPost, base+"/api/login", jsonBody(`{"username":`))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "bad JSON: 400, counted")
	resp, body = do(t, c, http.MethodPost, base+"/api/login", jsonBody(`{"username":"bob"}`))
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "a missing field is the 3rd failure")
	assert.Equal(t, "1800", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, `"failure_count":3`)
}

func missingFieldNotCounted(t *testing.T, base string) {
	c := client(t, "127.0.0.4")
	for range 4 {
		resp, _ := do(t, c, http.MethodPost, base+"/login", form("username", "alice"))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	}
	resp, body := do(t, c, http.MethodPost, base+"/login", form("username", "alice", "password", "nope"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, "2 attempts left")
}

func build(t *testing.T, fw, dir string) string { return exampleapp.Build(t, fw, dir) }

func start(t *testing.T, bin string, env ...string) string {
	return exampleapp.Start(t, bin, env...).URL
}

func client(t *testing.T, ip string) *http.Client { return exampleapp.Client(t, ip) }

type payload struct {
	contentType, body string
}

func form(kv ...string) *payload {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return &payload{"application/x-www-form-urlencoded", v.Encode()}
}

func jsonBody(s string) *payload { return &payload{"application/json", s} }

func do(t *testing.T, c *http.Client, method, u string, p *payload) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if p != nil {
		body = strings.NewReader(p.body)
	}
	req, err := http.NewRequest(method, u, body)
	require.NoError(t, err)
	if p != nil {
		req.Header.Set("Content-Type", p.contentType)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}
