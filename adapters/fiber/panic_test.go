package axesfiber_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	axesfiber "github.com/goaxes/axes/adapters/fiber"
	"github.com/goaxes/axes/core"
)

// A handler that panics (recovered by fiber's recover) leaves its attempt
// counted as a failure: the limit-th panic locks the client.
func TestHandlerPanicCountsAsFailure(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	app := fiber.New()
	app.Use(recover.New())
	app.Use(func(c *fiber.Ctx) error { c.Context().SetRemoteAddr(peerAddr("10.0.0.1:1")); return c.Next() })
	calls := 0
	app.Post("/login", axesfiber.Dispatch(e, func(c *fiber.Ctx) error { calls++; panic("handler bug") }))
	for i, want := range []int{500, 500, 500, 429} {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username=alice&password=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := app.Test(req, -1)
		require.NoError(t, err)
		assert.Equal(t, want, resp.StatusCode, "request %d", i+1)
	}
	assert.Equal(t, 3, calls)
	recs, _ := e.Records()
	rows, _, err := recs.Attempts(context.Background(), core.ListQuery{})
	require.NoError(t, err)
	require.Len(t, rows, 1, "each panic is a recorded failure")
	assert.GreaterOrEqual(t, rows[0].Failures, 3)
}
