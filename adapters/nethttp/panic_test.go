package axeshttp_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	axeshttp "github.com/goaxes/axes/adapters/nethttp"
	"github.com/goaxes/axes/core"
)

// A handler that panics (recovered by the server) leaves its attempt
// counted as a failure: the limit-th panic locks the client, whose next
// request never reaches the handler.
func TestHandlerPanicCountsAsFailure(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	calls := 0
	srv := httptest.NewUnstartedServer(axeshttp.Dispatch(e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		panic("handler bug")
	})))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	for range 3 {
		_, err := http.PostForm(srv.URL+"/login", url.Values{"username": {"alice"}, "password": {"x"}})
		require.Error(t, err, "the server drops the connection of a panicking handler")
	}
	resp, err := http.PostForm(srv.URL+"/login", url.Values{"username": {"alice"}, "password": {"x"}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, 3, calls)
	recs, _ := e.Records()
	rows, _, err := recs.Attempts(context.Background(), core.ListQuery{})
	require.NoError(t, err)
	require.Len(t, rows, 1, "each panic is a recorded failure")
	assert.GreaterOrEqual(t, rows[0].Failures, 3)
}
