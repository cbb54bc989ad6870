package axesfiber_test

import (
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/stretchr/testify/require"

	axesfiber "github.com/goaxes/axes/adapters/fiber"
	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/adaptertest"
)

// A handler that panics (recovered by fiber's recover) leaves its attempt a
// recorded failure.
func TestHandlerPanicCountsAsFailure(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	app := fiber.New()
	app.Use(recover.New())
	app.Use(func(c *fiber.Ctx) error { c.Context().SetRemoteAddr(peerAddr("10.0.0.1:1")); return c.Next() })
	calls := 0
	app.Post("/login", axesfiber.Dispatch(e, func(c *fiber.Ctx) error { calls++; panic("handler bug") }))
	adaptertest.RunPanic(t, e, func(req *http.Request) int {
		resp, err := app.Test(req, -1)
		require.NoError(t, err)
		return resp.StatusCode
	}, func() int { return calls })
}
