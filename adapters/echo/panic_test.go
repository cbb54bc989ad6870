package axesecho_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/require"

	axesecho "github.com/goaxes/axes/adapters/echo"
	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/adaptertest"
)

// A handler that panics (recovered by echo's Recover) leaves its attempt a
// recorded failure.
func TestHandlerPanicCountsAsFailure(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	r := echo.New()
	r.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	r.Logger.SetOutput(io.Discard)
	calls := 0
	r.POST("/login", axesecho.Dispatch(e, func(c echo.Context) error { calls++; panic("handler bug") }))
	adaptertest.RunPanic(t, e, func(req *http.Request) int {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code
	}, func() int { return calls })
}
