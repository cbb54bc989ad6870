// Command gin is the axes demo login app on gin. It protects the login
// routes with axesgin.Middleware; the handlers report failures and
// successes with the report helpers.
//
//	go run ./examples/gin   # then open http://127.0.0.1:8080/login (alice / wonderland)
//
// Settings come from the environment: ADDR, DEMO_USERS, AXES_ADMIN_USERS
// and every AXES_* variable (AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME, …).
package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	axesgin "github.com/goaxes/axes/adapters/gin"
	"github.com/goaxes/axes/examples/internal/demo"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	demo.Main("gin", func(d *demo.Demo) error { return d.ListenHTTP(routes(d)) })
}

func routes(d *demo.Demo) http.Handler {
	e := d.Engine
	r := gin.New()
	r.Use(gin.Recovery())
	// The middleware refuses a locked client before the handler runs, and
	// answers the failure that locks with the lockout response instead of
	// the handler's.
	r.Use(axesgin.Middleware(e, axesgin.Options{Paths: []string{"/login", "/api/login"}}))

	r.GET("/", func(c *gin.Context) {
		c.Data(http.StatusOK, demo.HTML, d.HomeHTML(d.UserOf(c.Request)))
	})
	r.GET("/login", func(c *gin.Context) {
		c.Data(http.StatusOK, demo.HTML, d.LoginHTML(demo.LoginPage{}))
	})
	r.POST("/login", func(c *gin.Context) {
		user, pass := c.PostForm(d.UserField), c.PostForm(d.PassField)
		if user == "" || pass == "" { // a 400 is not counted
			c.Data(http.StatusBadRequest, demo.HTML, d.LoginHTML(demo.LoginPage{
				Username: user, Error: "Please enter a username and a password.", AttemptsLeft: -1}))
			return
		}
		if !d.Check(user, pass) {
			dec := axesgin.ReportFailure(e, c, user)
			c.Data(http.StatusUnauthorized, demo.HTML, d.LoginHTML(demo.LoginPage{
				Username: user, Error: "Invalid username or password.", AttemptsLeft: dec.AttemptsLeft()}))
			return
		}
		axesgin.ReportSuccess(e, c, user)
		http.SetCookie(c.Writer, d.StartSession(user))
		c.Redirect(http.StatusSeeOther, "/")
	})

	// The JSON login of django-axes' docs, reporting for itself.
	r.POST("/api/login", func(c *gin.Context) {
		// The credentials axes read: the username verified is the one counted.
		user, pass := axesgin.Credentials(e, c)
		if err := d.Required(user, pass); err != nil {
			axesgin.ReportFailure(e, c, user)
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		if axesgin.Check(e, c, user).Refused() {
			return // the lockout response replaces this handler's
		}
		if !d.Check(user, pass) {
			axesgin.ReportFailure(e, c, user)
			c.JSON(http.StatusForbidden, gin.H{"error": "Invalid username or password."})
			return
		}
		if axesgin.ReportSuccess(e, c, user).Refused() {
			return
		}
		http.SetCookie(c.Writer, d.StartSession(user))
		c.JSON(http.StatusOK, gin.H{"message": "success!"})
	})

	r.POST("/logout", func(c *gin.Context) {
		if token, err := c.Cookie(demo.SessionCookie); err == nil {
			user, clear := d.EndSession(token)
			if user != "" {
				axesgin.ReportLogout(e, c, user)
			}
			http.SetCookie(c.Writer, clear)
		}
		c.Redirect(http.StatusSeeOther, "/login")
	})

	r.Any(demo.AdminPrefix+"*path", gin.WrapH(d.Admin()))
	r.GET("/metrics", gin.WrapH(d.Metrics()))
	return r
}
