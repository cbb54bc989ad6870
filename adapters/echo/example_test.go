package axesecho_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	axesecho "github.com/goaxes/axes/adapters/echo"
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

// post sends a login form to h from one client and prints the status.
func post(h http.Handler, user, password string) {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"username": {user}, "password": {password}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Body.String())))
}

// MiddlewareWithConfig protects the login routes of an echo instance; the
// handler reports the outcome with the report helpers and shows the
// attempts left.
func ExampleMiddlewareWithConfig() {
	engine := newEngine()
	e := echo.New()
	e.Use(axesecho.MiddlewareWithConfig(engine, axesecho.Config{Paths: []string{"/login"}}))
	e.POST("/login", func(c echo.Context) error {
		user := c.FormValue("username")
		if c.FormValue("password") != "wonderland" {
			d := axesecho.ReportFailure(engine, c, user)
			return c.String(http.StatusUnauthorized, fmt.Sprintf("invalid credentials, attempts left: %d", d.AttemptsLeft()))
		}
		axesecho.ReportSuccess(engine, c, user)
		return c.Redirect(http.StatusSeeOther, "/")
	})

	post(e, "alice", "guess1")
	post(e, "alice", "guess2")
	post(e, "alice", "guess3")     // the 3rd failure is answered with the lockout
	post(e, "alice", "wonderland") // refused before the handler runs
	// Output:
	// 401 invalid credentials, attempts left: 2
	// 401 invalid credentials, attempts left: 1
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
}

// Dispatch and FormInvalid are django-axes' axes_dispatch and
// axes_form_invalid: Dispatch wraps one login handler, FormInvalid its
// failure path; the outcome is read from the status (an
// echo.ErrUnauthorized counts as a failure too).
func ExampleDispatch() {
	engine := newEngine()
	invalid := axesecho.FormInvalid(engine, func(c echo.Context) error {
		left := axesecho.DecisionFrom(engine, c).AttemptsLeft()
		return c.String(http.StatusUnauthorized, fmt.Sprintf("invalid credentials, attempts left: %d", left))
	})
	e := echo.New()
	e.POST("/login", axesecho.Dispatch(engine, func(c echo.Context) error {
		if c.FormValue("password") != "wonderland" {
			return invalid(c)
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}))

	post(e, "alice", "guess1")
	post(e, "alice", "wonderland")
	post(e, "alice", "guess2")
	post(e, "alice", "guess3")
	// Output:
	// 401 invalid credentials, attempts left: 2
	// 303
	// 401 invalid credentials, attempts left: 1
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
}
