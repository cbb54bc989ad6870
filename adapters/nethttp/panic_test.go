package axeshttp_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	axeshttp "github.com/goaxes/axes/adapters/nethttp"
	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/adaptertest"
)

// A handler that panics (recovered by the server, which drops the
// connection) leaves its attempt a recorded failure.
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
	adaptertest.RunPanic(t, e, func(*http.Request) int {
		resp, err := http.Post(srv.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader("username=alice&password=x"))
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}, func() int { return calls })
}
