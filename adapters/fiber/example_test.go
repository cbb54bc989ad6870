package axesfiber_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	axesfiber "github.com/goaxes/axes/adapters/fiber"
	"github.com/goaxes/axes/core"
)

func newEngine() *core.Engine {
	cfg := core.DefaultConfig() // or core.ConfigFromEnv(os.Getenv)
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := core.New(cfg)
	if err != nil {
		panic(err)
	}
	return engine
}

// post sends a login form to app with app.Test and prints the status.
func post(app *fiber.App, user, password string) {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"username": {user}, "password": {password}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := app.Test(r)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", string(body))))
}

// Middleware protects the login routes of an app; the handler reports the
// outcome with the report helpers and shows the attempts left.
func ExampleMiddleware() {
	engine := newEngine()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(axesfiber.Middleware(engine, axesfiber.Config{Paths: []string{"/login"}}))
	app.Post("/login", func(c *fiber.Ctx) error {
		user := c.FormValue("username")
		if c.FormValue("password") != "wonderland" {
			d := axesfiber.ReportFailure(engine, c, user)
			return c.Status(http.StatusUnauthorized).SendString(fmt.Sprintf("invalid credentials, attempts left: %d", d.AttemptsLeft()))
		}
		axesfiber.ReportSuccess(engine, c, user)
		return c.Redirect("/", http.StatusSeeOther)
	})

	post(app, "alice", "guess1")
	post(app, "alice", "guess2")
	post(app, "alice", "guess3")     // the 3rd failure is answered with the lockout
	post(app, "alice", "wonderland") // refused before the handler runs
	// Output:
	// 401 invalid credentials, attempts left: 2
	// 401 invalid credentials, attempts left: 1
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
}

// Dispatch and FormInvalid are django-axes' axes_dispatch and
// axes_form_invalid: Dispatch wraps one login handler, FormInvalid its
// failure path; the outcome is read from the status (a
// fiber.ErrUnauthorized counts as a failure too).
func ExampleDispatch() {
	engine := newEngine()
	invalid := axesfiber.FormInvalid(engine, func(c *fiber.Ctx) error {
		left := axesfiber.DecisionFrom(engine, c).AttemptsLeft()
		return c.Status(http.StatusUnauthorized).SendString(fmt.Sprintf("invalid credentials, attempts left: %d", left))
	})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/login", axesfiber.Dispatch(engine, func(c *fiber.Ctx) error {
		if c.FormValue("password") != "wonderland" {
			return invalid(c)
		}
		return c.Redirect("/", http.StatusSeeOther)
	}))

	post(app, "alice", "guess1")
	post(app, "alice", "wonderland")
	post(app, "alice", "guess2")
	post(app, "alice", "guess3")
	// Output:
	// 401 invalid credentials, attempts left: 2
	// 303
	// 401 invalid credentials, attempts left: 1
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
}
