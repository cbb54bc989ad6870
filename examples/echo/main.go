// Command echo is the axes demo login app on echo (v4). It protects the
// login routes with axesecho.MiddlewareWithConfig; the handlers report
// failures and successes with the report helpers.
//
//	go run ./examples/echo   # then open http://127.0.0.1:8080/login (alice / wonderland)
//
// Settings come from the environment: ADDR, DEMO_USERS, AXES_ADMIN_USERS
// and every AXES_* variable (AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME, …).
package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	axesecho "github.com/goaxes/axes/adapters/echo"
	"github.com/goaxes/axes/examples/internal/demo"
)

func main() {
	demo.Main("echo", func(d *demo.Demo) error { return d.ListenHTTP(routes(d)) })
}

func routes(d *demo.Demo) http.Handler {
	e := d.Engine
	r := echo.New()
	r.HideBanner = true
	// The middleware refuses a locked client before the handler runs, and
	// answers the failure that locks with the lockout response instead of
	// the handler's.
	r.Use(axesecho.MiddlewareWithConfig(e, axesecho.Config{Paths: []string{"/login", "/api/login"}}))

	r.GET("/", func(c echo.Context) error {
		return c.HTMLBlob(http.StatusOK, d.HomeHTML(d.UserOf(c.Request())))
	})
	r.GET("/login", func(c echo.Context) error {
		return c.HTMLBlob(http.StatusOK, d.LoginHTML(demo.LoginPage{}))
	})
	r.POST("/login", func(c echo.Context) error {
		user, pass := c.FormValue(d.UserField), c.FormValue(d.PassField)
		if user == "" || pass == "" { // a 400 is not counted
			return c.HTMLBlob(http.StatusBadRequest, d.LoginHTML(demo.LoginPage{
				Username: user, Error: "Please enter a username and a password.", AttemptsLeft: -1}))
		}
		if !d.Check(user, pass) {
			dec := axesecho.ReportFailure(e, c, user)
			return c.HTMLBlob(http.StatusUnauthorized, d.LoginHTML(demo.LoginPage{
				Username: user, Error: "Invalid username or password.", AttemptsLeft: dec.AttemptsLeft()}))
		}
		axesecho.ReportSuccess(e, c, user)
		c.SetCookie(d.StartSession(user))
		return c.Redirect(http.StatusSeeOther, "/")
	})

	// The JSON login of django-axes' docs, reporting for itself.
	r.POST("/api/login", func(c echo.Context) error {
		// The credentials axes read: the username verified is the one counted.
		user, pass := axesecho.Credentials(e, c)
		if err := d.Required(user, pass); err != nil {
			axesecho.ReportFailure(e, c, user)
			return c.JSON(http.StatusBadRequest, echo.Map{"error": err.Error()})
		}
		if axesecho.Check(e, c, user).Refused() {
			return nil // the lockout response replaces this handler's
		}
		if !d.Check(user, pass) {
			axesecho.ReportFailure(e, c, user)
			return c.JSON(http.StatusForbidden, echo.Map{"error": "Invalid username or password."})
		}
		if axesecho.ReportSuccess(e, c, user).Refused() {
			return nil
		}
		c.SetCookie(d.StartSession(user))
		return c.JSON(http.StatusOK, echo.Map{"message": "success!"})
	})

	r.POST("/logout", func(c echo.Context) error {
		if ck, err := c.Cookie(demo.SessionCookie); err == nil {
			user, clear := d.EndSession(ck.Value)
			if user != "" {
				axesecho.ReportLogout(e, c, user)
			}
			c.SetCookie(clear)
		}
		return c.Redirect(http.StatusSeeOther, "/login")
	})

	r.Any(demo.AdminPrefix+"*", echo.WrapHandler(d.Admin()))
	r.GET("/metrics", echo.WrapHandler(d.Metrics()))
	return r
}
