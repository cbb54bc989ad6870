package axesfiber_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	axesfiber "github.com/goaxes/axes/adapters/fiber"
	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/adaptertest"
)

func TestScenarios(t *testing.T) { adaptertest.Run(t, harness, adaptertest.WholeBody) }

// peerHeader carries the scenario's client address across app.Test, whose
// connection always reports 0.0.0.0: the harness's first handler sets it
// as the socket peer, which is what the adapter reads.
const peerHeader = "X-Test-Peer"

type peerAddr string

func (peerAddr) Network() string  { return "tcp" }
func (a peerAddr) String() string { return string(a) }

// harness builds the scenario app on fiber.New() and serves it with app.Test.
func harness(t *testing.T, s adaptertest.Setup) func(*http.Request) *http.Response {
	e, app := s.Engine, s.App
	reporter := func(c *fiber.Ctx) adaptertest.Reporter {
		return adaptertest.Reporter{
			Failure:  func(u string) core.Decision { return axesfiber.ReportFailure(e, c, u) },
			Success:  func(u string) { axesfiber.ReportSuccess(e, c, u) },
			Decision: func() core.Decision { return axesfiber.DecisionFrom(e, c) },
		}
	}
	write := func(c *fiber.Ctx, reply adaptertest.Reply) error {
		for k, v := range reply.Header {
			c.Set(k, v[0])
		}
		return c.Status(reply.Status).SendString(reply.Body)
	}
	byStatus := func(c *fiber.Ctx) error {
		return write(c, app.ByStatus(c.FormValue(app.UserField), c.FormValue(app.PassField), reporter(c)))
	}
	invalid := axesfiber.FormInvalid(e, func(c *fiber.Ctx) error { return write(c, app.Invalid(reporter(c))) })
	thirdParty := func(c *fiber.Ctx) error {
		if reply, ok := app.ThirdParty(c.FormValue(app.UserField), c.FormValue(app.PassField)); ok {
			return write(c, reply)
		}
		return invalid(c)
	}
	jsonLogin := func(c *fiber.Ctx) error { return write(c, app.JSON(c.Body(), reporter(c))) }

	f := fiber.New()
	f.Use(func(c *fiber.Ctx) error {
		peer := string(c.Request().Header.Peek(peerHeader))
		if peer == "-" {
			peer = ""
		}
		c.Context().SetRemoteAddr(peerAddr(peer))
		c.Request().Header.Del(peerHeader)
		return c.Next()
	})
	if s.Style == adaptertest.Middleware || s.Style == adaptertest.Report {
		f.Use(axesfiber.Middleware(e, axesfiber.Config{Paths: []string{"/login"}, Methods: s.Methods, Outcome: s.Outcome}))
	}
	f.Get("/login", func(c *fiber.Ctx) error { return write(c, app.Form()) })
	f.Post("/other", func(c *fiber.Ctx) error { return fiber.NewError(http.StatusUnauthorized) })
	f.Post("/logout", func(c *fiber.Ctx) error {
		axesfiber.ReportLogout(e, c, "alice")
		return c.Redirect("/login", http.StatusSeeOther)
	})
	switch s.Style {
	case adaptertest.Middleware:
		f.Post("/login", byStatus)
	case adaptertest.Dispatch:
		f.Post("/login", axesfiber.Dispatch(e, byStatus))
	case adaptertest.FormInvalid:
		f.Post("/login", axesfiber.Dispatch(e, thirdParty))
	case adaptertest.Report, adaptertest.ReportBare:
		f.Post("/login", jsonLogin)
	}
	return func(req *http.Request) *http.Response {
		peer := req.RemoteAddr
		if peer == "" {
			peer = "-"
		}
		req.Header.Set(peerHeader, peer)
		resp, err := f.Test(req, -1)
		require.NoError(t, err)
		return resp
	}
}

var _ net.Addr = peerAddr("")

// A handler's error goes through fiber's error handler inside the
// middleware, so that its status tells the outcome.
func TestHandlerErrorCountsByItsStatus(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	app := fiber.New()
	app.Use(func(c *fiber.Ctx) error { c.Context().SetRemoteAddr(peerAddr("10.0.0.1:1")); return c.Next() })
	app.Use(axesfiber.Middleware(e))
	app.Post("/login", func(c *fiber.Ctx) error { return fiber.ErrUnauthorized })
	for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusTooManyRequests} {
		resp, err := app.Test(httptest.NewRequest(http.MethodPost, "/login", nil), -1)
		require.NoError(t, err)
		assert.Equal(t, want, resp.StatusCode, "attempt %d", i+1)
	}
}
