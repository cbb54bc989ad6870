package axesgin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	axesgin "github.com/goaxes/axes/adapters/gin"
	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/adaptertest"
)

// A handler that panics (recovered by gin's Recovery) leaves its attempt a
// recorded failure.
func TestHandlerPanicCountsAsFailure(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	r := gin.New()
	r.Use(gin.RecoveryWithWriter(io.Discard))
	calls := 0
	r.POST("/login", axesgin.Dispatch(e, func(c *gin.Context) { calls++; panic("handler bug") }))
	adaptertest.RunPanic(t, e, func(req *http.Request) int {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code
	}, func() int { return calls })
}
