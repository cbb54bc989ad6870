package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/internal/exampleapp"
)

// TestBrowser drives the admin page of the net/http example app in a real
// headless Chromium: an admin sees a locked client, resets it, and the
// client logs in again. AXES_SCREENSHOT=1 saves docs/admin.png and
// docs/admin-overview.png.
func TestBrowser(t *testing.T) {
	chromium := os.Getenv("AXES_TEST_CHROMIUM")
	if chromium == "" {
		if os.Getenv("AXES_REQUIRE_SERVICES") == "1" {
			t.Fatal("AXES_TEST_CHROMIUM is not set and AXES_REQUIRE_SERVICES=1: Chromium is required")
		}
		t.Skip("AXES_TEST_CHROMIUM is not set: no Chromium to test with")
	}
	base := exampleapp.Start(t, exampleapp.Build(t, "nethttp", t.TempDir()), "AXES_ADMIN_USERS=alice", "AXES_COOLOFF_TIME=30m", "AXES_ENABLE_ACCESS_FAILURE_LOG=true").URL

	// A client on 127.0.0.2 locks itself out; others fail less.
	victim := exampleapp.Client(t, "127.0.0.2")
	for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests} {
		assert.Equal(t, want, post(t, victim, base+"/login", "bob", "wrong"), "failure %d from 127.0.0.2", i+1)
	}
	assert.Equal(t, http.StatusUnauthorized, post(t, exampleapp.Client(t, "127.0.0.3"), base+"/login", xss, "x"))
	assert.Equal(t, http.StatusUnauthorized, post(t, exampleapp.Client(t, "127.0.0.4"), base+"/login", "carol", "x"))
	for range 2 {
		post(t, exampleapp.Client(t, "127.0.0.5"), base+"/login", "alice", "letmein")
	}

	ctx := browser(t, chromium)
	var dialogs atomic.Int32
	go func() {
		for _, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			dialogs.Add(1)
		}
	}()
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, actions...))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, "text of %s", sel)
		return strings.TrimSpace(s)
	}
	count := func(sel string) int {
		t.Helper()
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
		require.NoError(t, err)
		return len(nodes)
	}
	submit := func(sel string) int64 {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		require.NoError(t, err, "submit %s", sel)
		return resp.Status
	}
	login := func(user, pass string) {
		t.Helper()
		do(chromedp.Navigate(base+"/login"),
			chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pass))
		require.Equal(t, int64(http.StatusOK), submit(`form button`))
		require.Contains(t, text("body"), "Logged in as "+user)
	}
	open := func(path string) int64 {
		t.Helper()
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+path))
		require.NoError(t, err)
		return resp.Status
	}
	screenshot := func(name string) {
		t.Helper()
		if os.Getenv("AXES_SCREENSHOT") != "1" {
			return
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("..", "docs", name), buf, 0o644))
		t.Logf("saved docs/%s", name)
	}

	t.Run("a non-admin gets 403", func(t *testing.T) {
		login("bob", "builder")
		assert.Equal(t, int64(http.StatusForbidden), open("/admin/axes/"))
		assert.Equal(t, int64(http.StatusForbidden), open("/admin/axes/attempts"))
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
		require.NoError(t, err)
		assert.Equal(t, int64(http.StatusForbidden), open("/admin/axes/"), "anonymous")
	})

	t.Run("the admin sees the locked client", func(t *testing.T) {
		login("alice", "wonderland")
		do(chromedp.Click(chromedp.CSS(`a[href="/admin/axes/"]`)), chromedp.WaitVisible(chromedp.CSS(`#locked-now`)))
		assert.Equal(t, "1", text(`#locked-now`))
		assert.Equal(t, 1, count(`svg[role=img]`), "the chart")
		screenshot("admin-overview.png")

		require.Equal(t, int64(http.StatusOK), submit(`nav a[href="attempts"]`))
		row := `tr[data-ip="127.0.0.2"]`
		assert.Equal(t, "bob", text(row+` td.user`))
		assert.Equal(t, "3", text(row+` td.failures`))
		assert.Contains(t, text(row+` .badge`), "Locked until")
		assert.Contains(t, text(`tr[data-ip="127.0.0.4"] .badge`), "2 attempts left")
		screenshot("admin.png")
	})

	t.Run("an XSS payload is shown as text", func(t *testing.T) {
		assert.Equal(t, xss, text(`tr[data-ip="127.0.0.3"] td.user`))
		assert.Equal(t, 0, count(`img`), "no element made from the username")
		do(chromedp.Navigate(base + "/admin/axes/attempts?q=" + url.QueryEscape(xss)))
		assert.Equal(t, xss, text(`tr[data-ip="127.0.0.3"] td.user`))
		assert.Equal(t, xss, mustValue(t, ctx, `input[name=q]`))
		assert.Equal(t, 0, count(`img`))
		assert.Zero(t, dialogs.Load(), "no alert may open")
	})

	t.Run("a reset without the CSRF token is refused", func(t *testing.T) {
		do(chromedp.Navigate(base+"/admin/axes/attempts"),
			chromedp.SetAttributeValue(chromedp.CSSAll(`input[name=csrf]`), "value", "forged"),
			chromedp.SendKeys(chromedp.CSS(`input[name=ip]`), "127.0.0.2"))
		assert.Equal(t, int64(http.StatusForbidden), submit(`form:has(input[name=ip]) button`))
		assert.Contains(t, text("body"), "CSRF token missing or invalid")

		// The same with alice's session but no token at all, from Go.
		admin := exampleapp.Client(t, "127.0.0.1")
		require.Equal(t, http.StatusSeeOther, post(t, admin, base+"/login", "alice", "wonderland"))
		resp, err := admin.PostForm(base+"/admin/axes/reset", url.Values{"action": {"ip"}, "ip": {"127.0.0.2"}})
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)

		do(chromedp.Navigate(base + "/admin/axes/attempts"))
		assert.Contains(t, text(`tr[data-ip="127.0.0.2"] .badge`), "Locked until", "nothing was reset")
	})

	t.Run("the admin resets the client, which logs in again", func(t *testing.T) {
		do(chromedp.Navigate(base+"/admin/axes/attempts?status=locked"),
			chromedp.Click(chromedp.CSS(`input[name=sel][value^="ip=127.0.0.2&"]`)))
		require.Equal(t, int64(http.StatusOK), submit(`#rows button[type=submit]`))
		assert.Equal(t, "1 attempts removed.", text(`.flash`))
		assert.Equal(t, 0, count(`tr[data-ip="127.0.0.2"]`))
		loc, err := chromedp.Run(ctx, chromedp.Location())
		require.NoError(t, err)
		assert.Equal(t, base+"/admin/axes/attempts?removed=1", loc)

		assert.Equal(t, http.StatusSeeOther, post(t, victim, base+"/login", "bob", "builder"), "the client logs in again")
	})
}

func mustValue(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	require.NoError(t, err)
	return v
}

// browser starts a headless Chromium with a fresh profile.
func browser(t *testing.T, chromium string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return ctx
}

// post posts the login form and returns the status.
func post(t *testing.T, c *http.Client, target, user, pass string) int {
	t.Helper()
	resp, err := c.PostForm(target, url.Values{"username": {user}, "password": {pass}})
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
