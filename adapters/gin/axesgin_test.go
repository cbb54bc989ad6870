package axesgin_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	axesgin "github.com/goaxes/axes/adapters/gin"
	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/adaptertest"
)

func TestScenarios(t *testing.T) {
	gin.SetMode(gin.TestMode)
	adaptertest.Run(t, harness)
}

// harness builds the scenario app on gin.New().
func harness(t *testing.T, s adaptertest.Setup) func(*http.Request) *http.Response {
	e, app := s.Engine, s.App
	reporter := func(c *gin.Context) adaptertest.Reporter {
		return adaptertest.Reporter{
			Failure:  func(u string) core.Decision { return axesgin.ReportFailure(e, c, u) },
			Success:  func(u string) { axesgin.ReportSuccess(e, c, u) },
			Decision: func() core.Decision { return axesgin.DecisionFrom(e, c) },
		}
	}
	write := func(c *gin.Context, reply adaptertest.Reply) {
		for k, v := range reply.Header {
			c.Header(k, v[0])
		}
		c.String(reply.Status, "%s", reply.Body)
	}
	byStatus := func(c *gin.Context) {
		write(c, app.ByStatus(c.PostForm(app.UserField), c.PostForm(app.PassField), reporter(c)))
	}
	invalid := axesgin.FormInvalid(e, func(c *gin.Context) { write(c, app.Invalid(reporter(c))) })
	thirdParty := func(c *gin.Context) {
		if reply, ok := app.ThirdParty(c.PostForm(app.UserField), c.PostForm(app.PassField)); ok {
			write(c, reply)
			return
		}
		invalid(c)
	}
	jsonLogin := func(c *gin.Context) {
		body, _ := c.GetRawData()
		write(c, app.JSON(body, reporter(c)))
	}

	r := gin.New()
	if s.Style == adaptertest.Middleware || s.Style == adaptertest.Report {
		r.Use(axesgin.Middleware(e, axesgin.Options{Paths: []string{"/login"}, Methods: s.Methods, Outcome: s.Outcome}))
	}
	r.GET("/login", func(c *gin.Context) { write(c, app.Form()) })
	r.POST("/other", func(c *gin.Context) { c.Status(http.StatusUnauthorized) })
	r.POST("/logout", func(c *gin.Context) {
		axesgin.ReportLogout(e, c, "alice")
		c.Redirect(http.StatusSeeOther, "/login")
	})
	switch s.Style {
	case adaptertest.Middleware:
		r.POST("/login", byStatus)
	case adaptertest.Dispatch:
		r.POST("/login", axesgin.Dispatch(e, byStatus))
	case adaptertest.FormInvalid:
		r.POST("/login", axesgin.Dispatch(e, thirdParty))
	case adaptertest.Report, adaptertest.ReportBare:
		r.POST("/login", jsonLogin)
	}
	return func(req *http.Request) *http.Response {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec.Result()
	}
}

// Middleware outside axes sees the status that went out, the lockout's
// included; gin's status stays changeable until the first write.
func TestWriterStatus(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	var seen []int
	r := gin.New()
	r.Use(func(c *gin.Context) { c.Next(); seen = append(seen, c.Writer.Status()) })
	r.Use(axesgin.Middleware(e, axesgin.Options{}))
	r.POST("/login", func(c *gin.Context) {
		c.Status(http.StatusInternalServerError)
		assert.False(t, c.Writer.Written())
		c.String(http.StatusUnauthorized, "bad credentials")
		assert.True(t, c.Writer.Written())
		assert.Equal(t, http.StatusUnauthorized, c.Writer.Status())
	})
	for range 3 {
		req := httptest.NewRequest(http.MethodPost, "/login", nil)
		req.RemoteAddr = "10.0.0.1:1"
		r.ServeHTTP(httptest.NewRecorder(), req)
	}
	assert.Equal(t, []int{401, 401, 429}, seen)
}
