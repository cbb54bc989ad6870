package axesecho_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	axesecho "github.com/goaxes/axes/adapters/echo"
	"github.com/goaxes/axes/core"
)

// A handler that panics (recovered by echo's Recover) leaves its attempt
// counted as a failure: the limit-th panic locks the client.
func TestHandlerPanicCountsAsFailure(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	r := echo.New()
	r.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true, DisableErrorHandler: false}))
	r.Logger.SetOutput(discard{})
	calls := 0
	r.POST("/login", axesecho.Dispatch(e, func(c echo.Context) error { calls++; panic("handler bug") }))
	for i, want := range []int{500, 500, 500, 429} {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username=alice&password=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "10.0.0.1:1234"
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		assert.Equal(t, want, w.Code, "request %d", i+1)
	}
	assert.Equal(t, 3, calls)
	recs, _ := e.Records()
	rows, _, err := recs.Attempts(context.Background(), core.ListQuery{})
	require.NoError(t, err)
	require.Len(t, rows, 1, "each panic is a recorded failure")
	assert.GreaterOrEqual(t, rows[0].Failures, 3)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
