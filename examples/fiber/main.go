// Command fiber is the axes demo login app on fiber (v2). It protects the
// form login with axesfiber.Dispatch and axesfiber.FormInvalid (django-axes'
// axes_dispatch and axes_form_invalid), and the JSON login with the report
// helpers.
//
//	go run ./examples/fiber   # then open http://127.0.0.1:8080/login (alice / wonderland)
//
// Settings come from the environment: ADDR, DEMO_USERS, AXES_ADMIN_USERS
// and every AXES_* variable (AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME, …).
package main

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	axesfiber "github.com/goaxes/axes/adapters/fiber"
	"github.com/goaxes/axes/examples/internal/demo"
)

func main() {
	demo.Main("fiber", func(d *demo.Demo) error {
		app := routes(d)
		return d.Serve(app.Listener, app.ShutdownWithContext)
	})
}

func routes(d *demo.Demo) *fiber.App {
	e := d.Engine
	app := fiber.New(fiber.Config{DisableStartupMessage: true,
		// Slow clients are cut off: a login page never needs long.
		ReadTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second})

	app.Get("/", func(c *fiber.Ctx) error {
		return html(c, http.StatusOK, d.HomeHTML(d.User(c.Cookies(demo.SessionCookie))))
	})
	app.Get("/login", func(c *fiber.Ctx) error {
		return html(c, http.StatusOK, d.LoginHTML(demo.LoginPage{}))
	})

	// The form's failure path, wrapped by FormInvalid: it records the
	// failure, and when that failure locks the client, the lockout response
	// replaces the form.
	invalid := axesfiber.FormInvalid(e, func(c *fiber.Ctx) error {
		left := axesfiber.DecisionFrom(e, c).AttemptsLeft()
		return html(c, http.StatusUnauthorized, d.LoginHTML(demo.LoginPage{
			Username: c.FormValue(d.UserField), Error: "Invalid username or password.", AttemptsLeft: left}))
	})
	// Dispatch refuses a locked client before the password is checked and
	// reads the outcome from the status when the handler reports nothing: a
	// 303 is a success, the 400 of a missing field is not counted.
	app.Post("/login", axesfiber.Dispatch(e, func(c *fiber.Ctx) error {
		user, pass := c.FormValue(d.UserField), c.FormValue(d.PassField)
		if user == "" || pass == "" {
			return html(c, http.StatusBadRequest, d.LoginHTML(demo.LoginPage{
				Username: user, Error: "Please enter a username and a password.", AttemptsLeft: -1}))
		}
		if !d.Check(user, pass) {
			return invalid(c)
		}
		c.Cookie(cookie(d.StartSession(user)))
		return c.Redirect("/", http.StatusSeeOther)
	}))

	// The JSON login of django-axes' docs: the handler reports failures and
	// successes itself; Dispatch refuses locked clients and answers the
	// failure that locks with the lockout response.
	app.Post("/api/login", axesfiber.Dispatch(e, func(c *fiber.Ctx) error {
		// The credentials axes read: the username verified is the one counted.
		user, pass := axesfiber.Credentials(e, c)
		if err := d.Required(user, pass); err != nil {
			axesfiber.ReportFailure(e, c, user)
			return c.Status(http.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
		}
		if axesfiber.Check(e, c, user).Refused() {
			return nil // the lockout response replaces this handler's
		}
		if !d.Check(user, pass) {
			axesfiber.ReportFailure(e, c, user)
			return c.Status(http.StatusForbidden).JSON(fiber.Map{"error": "Invalid username or password."})
		}
		if axesfiber.ReportSuccess(e, c, user).Refused() {
			return nil
		}
		c.Cookie(cookie(d.StartSession(user)))
		return c.JSON(fiber.Map{"message": "success!"})
	}))

	app.Post("/logout", func(c *fiber.Ctx) error {
		if token := c.Cookies(demo.SessionCookie); token != "" {
			if user, _ := d.EndSession(token); user != "" {
				axesfiber.ReportLogout(e, c, user)
			}
			c.ClearCookie(demo.SessionCookie)
		}
		return c.Redirect("/login", http.StatusSeeOther)
	})

	app.All(demo.AdminPrefix+"*", adaptor.HTTPHandler(d.Admin()))
	app.Get("/metrics", adaptor.HTTPHandler(d.Metrics()))
	return app
}

func html(c *fiber.Ctx, status int, page []byte) error {
	c.Set(fiber.HeaderContentType, demo.HTML)
	return c.Status(status).Send(page)
}

// cookie turns the demo's session cookie into fiber's.
func cookie(ck *http.Cookie) *fiber.Cookie {
	return &fiber.Cookie{Name: ck.Name, Value: ck.Value, Path: ck.Path, HTTPOnly: ck.HttpOnly,
		SameSite: fiber.CookieSameSiteLaxMode, SessionOnly: true}
}
