package axesgin_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	axesgin "github.com/goaxes/axes/adapters/gin"
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

// Middleware protects the login routes of a router; the handler reports
// the outcome with the report helpers and shows the attempts left.
func ExampleMiddleware() {
	gin.SetMode(gin.TestMode)
	engine := newEngine()
	r := gin.New()
	r.Use(axesgin.Middleware(engine, axesgin.Options{Paths: []string{"/login"}}))
	r.POST("/login", func(c *gin.Context) {
		user := c.PostForm("username")
		if c.PostForm("password") != "wonderland" {
			d := axesgin.ReportFailure(engine, c, user)
			c.String(http.StatusUnauthorized, "invalid credentials, attempts left: %d", d.AttemptsLeft())
			return
		}
		axesgin.ReportSuccess(engine, c, user)
		c.Redirect(http.StatusSeeOther, "/")
	})

	post(r, "alice", "guess1")
	post(r, "alice", "guess2")
	post(r, "alice", "guess3")     // the 3rd failure is answered with the lockout
	post(r, "alice", "wonderland") // refused before the handler runs
	// Output:
	// 401 invalid credentials, attempts left: 2
	// 401 invalid credentials, attempts left: 1
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
}

// Dispatch and FormInvalid are django-axes' axes_dispatch and
// axes_form_invalid: Dispatch wraps one login handler, FormInvalid its
// failure path; the outcome is read from the status.
func ExampleDispatch() {
	gin.SetMode(gin.TestMode)
	engine := newEngine()
	invalid := axesgin.FormInvalid(engine, func(c *gin.Context) {
		left := axesgin.DecisionFrom(engine, c).AttemptsLeft()
		c.String(http.StatusUnauthorized, "invalid credentials, attempts left: %d", left)
	})
	r := gin.New()
	r.POST("/login", axesgin.Dispatch(engine, func(c *gin.Context) {
		if c.PostForm("password") != "wonderland" {
			invalid(c)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	}))

	post(r, "alice", "guess1")
	post(r, "alice", "wonderland")
	post(r, "alice", "guess2")
	post(r, "alice", "guess3")
	// Output:
	// 401 invalid credentials, attempts left: 2
	// 303
	// 401 invalid credentials, attempts left: 1
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
}
