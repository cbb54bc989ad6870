package adaptertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// PanicRequest is a wrong login of alice from 10.0.0.1, for RunPanic.
func PanicRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username=alice&password=x"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = "10.0.0.1:1234"
	return r
}

// RunPanic checks that a login handler that panics (recovered by the
// framework's recovery, or by the server) leaves each attempt a recorded
// failure: the limit-th panic locks the client, whose next request never
// reaches the handler. serve sends PanicRequest through a router whose
// login handler, behind e's adapter, panics and counts its calls (calls);
// it returns the status, or 0 when the connection was dropped.
func RunPanic(t *testing.T, e *core.Engine, serve func(*http.Request) int, calls func() int) {
	t.Helper()
	for i := range 3 {
		assert.Contains(t, []int{0, http.StatusInternalServerError}, serve(PanicRequest()), "request %d: the recovery's answer", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, serve(PanicRequest()), "request 4: locked")
	assert.Equal(t, 3, calls())
	recs, _ := e.Records()
	rows, _, err := recs.Attempts(context.Background(), core.ListQuery{})
	require.NoError(t, err)
	require.Len(t, rows, 1, "each panic is a recorded failure")
	assert.GreaterOrEqual(t, rows[0].Failures, 3)
}
