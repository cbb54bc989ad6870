package axesgin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	axesgin "github.com/goaxes/axes/adapters/gin"
	"github.com/goaxes/axes/core"
)

// A handler that panics (recovered by gin's Recovery) leaves its attempt
// counted as a failure: the limit-th panic locks the client.
func TestHandlerPanicCountsAsFailure(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	r := gin.New()
	r.Use(gin.RecoveryWithWriter(io.Discard))
	calls := 0
	r.POST("/login", axesgin.Dispatch(e, func(c *gin.Context) { calls++; panic("handler bug") }))
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
