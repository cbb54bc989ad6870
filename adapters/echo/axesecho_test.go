package axesecho_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	axesecho "github.com/goaxes/axes/adapters/echo"
	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/adaptertest"
)

func TestScenarios(t *testing.T) { adaptertest.Run(t, harness) }

// harness builds the scenario app on echo.New().
func harness(t *testing.T, s adaptertest.Setup) func(*http.Request) *http.Response {
	e, app := s.Engine, s.App
	reporter := func(c echo.Context) adaptertest.Reporter {
		return adaptertest.Reporter{
			Failure:  func(u string) core.Decision { return axesecho.ReportFailure(e, c, u) },
			Success:  func(u string) { axesecho.ReportSuccess(e, c, u) },
			Decision: func() core.Decision { return axesecho.DecisionFrom(e, c) },
		}
	}
	write := func(c echo.Context, reply adaptertest.Reply) error {
		for k, v := range reply.Header {
			c.Response().Header().Set(k, v[0])
		}
		return c.String(reply.Status, reply.Body)
	}
	byStatus := func(c echo.Context) error {
		return write(c, app.ByStatus(c.FormValue(app.UserField), c.FormValue(app.PassField), reporter(c)))
	}
	invalid := axesecho.FormInvalid(e, func(c echo.Context) error { return write(c, app.Invalid(reporter(c))) })
	thirdParty := func(c echo.Context) error {
		if reply, ok := app.ThirdParty(c.FormValue(app.UserField), c.FormValue(app.PassField)); ok {
			return write(c, reply)
		}
		return invalid(c)
	}
	jsonLogin := func(c echo.Context) error {
		body, _ := io.ReadAll(c.Request().Body)
		return write(c, app.JSON(body, reporter(c)))
	}

	r := echo.New()
	if s.Style == adaptertest.Middleware || s.Style == adaptertest.Report {
		r.Use(axesecho.MiddlewareWithConfig(e, axesecho.Config{Paths: []string{"/login"}, Methods: s.Methods, Outcome: s.Outcome}))
	}
	r.GET("/login", func(c echo.Context) error { return write(c, app.Form()) })
	r.POST("/other", func(c echo.Context) error { return echo.NewHTTPError(http.StatusUnauthorized) })
	r.POST("/logout", func(c echo.Context) error {
		axesecho.ReportLogout(e, c, "alice")
		return c.Redirect(http.StatusSeeOther, "/login")
	})
	switch s.Style {
	case adaptertest.Middleware:
		r.POST("/login", byStatus)
	case adaptertest.Dispatch:
		r.POST("/login", axesecho.Dispatch(e, byStatus))
	case adaptertest.FormInvalid:
		r.POST("/login", axesecho.Dispatch(e, thirdParty))
	case adaptertest.Report, adaptertest.ReportBare:
		r.POST("/login", jsonLogin)
	}
	return func(req *http.Request) *http.Response {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec.Result()
	}
}

// A handler's error goes through echo's error handler inside the
// middleware, so that its status tells the outcome.
func TestHandlerErrorCountsByItsStatus(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	r := echo.New()
	r.Use(axesecho.Middleware(e))
	r.POST("/login", func(c echo.Context) error { return echo.ErrUnauthorized })
	for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusTooManyRequests} {
		req := httptest.NewRequest(http.MethodPost, "/login", nil)
		req.RemoteAddr = "10.0.0.1:1"
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		assert.Equal(t, want, rec.Code, "attempt %d", i+1)
	}
}

// Echo wraps every route's handler in the middleware on every request;
// the middleware remembers its wrappings, and each route still gets its
// own handler, with or without a middleware after it that makes a new
// handler per request.
func TestWrappingsKeepTheirRoutes(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	for _, after := range []bool{false, true} {
		r := echo.New()
		r.Use(axesecho.MiddlewareWithConfig(e, axesecho.Config{Paths: []string{"/login"}}))
		if after {
			r.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error { c.Response().Header().Set("X-After", "1"); return next(c) }
			})
		}
		const routes = 40
		for i := range routes {
			body := "route " + strconv.Itoa(i)
			r.GET("/r"+strconv.Itoa(i), func(c echo.Context) error { return c.String(http.StatusOK, body) })
		}
		r.POST("/login", func(c echo.Context) error { return echo.ErrUnauthorized })
		for round := range 3 {
			for i := range routes {
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/r"+strconv.Itoa(i), nil))
				assert.Equal(t, "route "+strconv.Itoa(i), rec.Body.String(), "after=%v round %d", after, round)
			}
		}
		want := []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusTooManyRequests}
		for i, status := range want {
			req := httptest.NewRequest(http.MethodPost, "/login", nil)
			req.RemoteAddr = "10.0.0." + strconv.Itoa(len(want)*boolInt(after)+7) + ":1"
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			assert.Equal(t, status, rec.Code, "after=%v attempt %d", after, i+1)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
