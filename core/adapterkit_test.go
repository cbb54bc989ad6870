package core_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// A buffer handed back and taken again starts as a copy of its new
// writer's header, with no status and no body of the request before.
func TestResponseBufferReused(t *testing.T) {
	for i := range 20 {
		w := httptest.NewRecorder()
		w.Header().Set("X-Request", strings.Repeat("r", i+1))
		b := core.NewResponseBuffer(w)
		assert.Equal(t, http.Header{"X-Request": {strings.Repeat("r", i+1)}}, b.Header(), "round %d", i)
		assert.False(t, b.Written(), "round %d", i)
		assert.Zero(t, b.Len(), "round %d", i)
		b.Header()["X-Request"][0] = "changed"
		b.Header().Set("X-Handler", "yes")
		b.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(b, "body")
		assert.Equal(t, strings.Repeat("r", i+1), w.Header().Get("X-Request"), "the buffer's header is a copy")
		b.Send()
		b.Release()
		assert.Equal(t, http.StatusCreated, w.Code)
		assert.Equal(t, "body", w.Body.String())
		assert.Equal(t, "changed", w.Header().Get("X-Request"))
		assert.Equal(t, "yes", w.Header().Get("X-Handler"))
	}
}

func TestWriteResponseSetsContentLength(t *testing.T) {
	for _, n := range []int{0, 7, 1023, 1024, 5000} {
		w := httptest.NewRecorder()
		w.Header().Set("Content-Type", "text/html")
		core.WriteResponse(w, &core.Response{Status: 429, Header: http.Header{"Content-Type": {"text/plain"}}, Body: make([]byte, n)})
		assert.Equal(t, 429, w.Code)
		assert.Equal(t, "text/plain", w.Header().Get("Content-Type"))
		assert.Equal(t, []string{strconv.Itoa(n)}, w.Header()["Content-Length"])
		assert.Equal(t, n, w.Body.Len())
	}
}

// A Login from NewLogin that is refused, written and ended is taken again
// by later requests: each sees its own request and refusal.
func TestNewLoginRefusedAndReused(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler) // no log line that names the username: the credentials may wait
	e, err := core.New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
		for range 3 {
			e.ReportFailure(ctx, &core.Request{RemoteAddr: ip + ":1", Method: http.MethodPost, Path: "/login", Username: "alice"})
		}
	}
	for i := range 10 {
		l := e.NewLogin()
		require.Nil(t, l.Attempt, "round %d: a new Login has no attempt", i)
		accept := "text/html"
		if i%2 == 1 {
			accept = "application/json"
		}
		*l.Request = core.Request{RemoteAddr: "10.0.0.1:1", Method: http.MethodPost, Path: "/login", Header: http.Header{"Accept": {accept}}}
		assert.Equal(t, i%2 == 0, l.DeferCredentials(ctx, nil))
		l.Begin(ctx)
		resp := l.Refusal()
		require.NotNil(t, resp, "round %d", i)
		assert.Same(t, resp, l.Refusal(), "built once")
		w := httptest.NewRecorder()
		core.WriteResponse(w, resp)
		assert.Equal(t, http.StatusTooManyRequests, w.Code)
		if i%2 == 1 {
			want := `{"failure_limit":3,"failure_count":` + strconv.Itoa(l.Attempt.Decision().Failures) + `,"username":""}`
			assert.Equal(t, want, w.Body.String(), "round %d", i)
		} else {
			assert.Contains(t, w.Body.String(), "Account locked")
		}
		l.End(ctx)
		l.End(ctx) // a second End does nothing
	}
	l := e.NewLogin()
	*l.Request = core.Request{RemoteAddr: "10.0.0.3:1", Method: http.MethodPost, Path: "/login"}
	l.Begin(ctx)
	assert.Nil(t, l.Refusal(), "another client is allowed")
}

// The Login's Context carries it to the handler; after End, a report
// through it begins a new attempt instead of using the one handed back.
func TestLoginContextAndEnd(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	ctx := context.WithValue(context.Background(), struct{ k string }{"parent"}, "kept")
	l := e.NewLogin()
	*l.Request = core.Request{RemoteAddr: "10.0.0.9:1", Method: http.MethodPost, Path: "/login", Username: "alice"}
	l.Begin(ctx)
	require.Nil(t, l.Refusal())
	hctx := l.Context(ctx)
	assert.Same(t, l, core.LoginFrom(hctx))
	assert.Equal(t, "kept", hctx.Value(struct{ k string }{"parent"}))
	assert.Nil(t, core.LoginFrom(ctx))
	l.Finish(ctx, http.StatusUnauthorized, nil)
	assert.Equal(t, 1, l.Decision(ctx).Failures)
	l.End(ctx)
	assert.Nil(t, l.Attempt)
	d := l.Fail(ctx, "")
	assert.Equal(t, 2, d.Failures, "a report after End counts on a new attempt")
}
