package axeshttp_test

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	axeshttp "github.com/goaxes/axes/adapters/nethttp"
	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/adaptertest"
)

func TestScenarios(t *testing.T) { adaptertest.Run(t, harness) }

// harness builds the scenario app on an http.ServeMux.
func harness(t *testing.T, s adaptertest.Setup) func(*http.Request) *http.Response {
	e, app := s.Engine, s.App
	reporter := func(r *http.Request) adaptertest.Reporter {
		return adaptertest.Reporter{
			Failure:  func(u string) core.Decision { return axeshttp.ReportFailure(e, r, u) },
			Success:  func(u string) { axeshttp.ReportSuccess(e, r, u) },
			Decision: func() core.Decision { return axeshttp.DecisionFrom(e, r) },
		}
	}
	write := func(w http.ResponseWriter, reply adaptertest.Reply) {
		maps.Copy(w.Header(), reply.Header)
		w.WriteHeader(reply.Status)
		_, _ = io.WriteString(w, reply.Body)
	}
	byStatus := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, app.ByStatus(r.PostFormValue(app.UserField), r.PostFormValue(app.PassField), reporter(r)))
	})
	invalid := axeshttp.FormInvalid(e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, app.Invalid(reporter(r)))
	}))
	thirdParty := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reply, ok := app.ThirdParty(r.PostFormValue(app.UserField), r.PostFormValue(app.PassField)); ok {
			write(w, reply)
			return
		}
		invalid.ServeHTTP(w, r)
	})
	jsonLogin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		write(w, app.JSON(body, reporter(r)))
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { write(w, app.Form()) })
	mux.HandleFunc("POST /other", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		axeshttp.ReportLogout(e, r, "alice")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
	var h http.Handler = mux
	protect := axeshttp.Middleware(e, axeshttp.Options{Paths: []string{"/login"}, Methods: s.Methods, Outcome: s.Outcome})
	switch s.Style {
	case adaptertest.Middleware:
		mux.Handle("POST /login", byStatus)
		h = protect(mux)
	case adaptertest.Dispatch:
		mux.Handle("POST /login", axeshttp.Dispatch(e, byStatus))
	case adaptertest.FormInvalid:
		mux.Handle("POST /login", axeshttp.Dispatch(e, thirdParty))
	case adaptertest.Report:
		mux.Handle("POST /login", jsonLogin)
		h = protect(mux)
	case adaptertest.ReportBare:
		mux.Handle("POST /login", jsonLogin)
	}
	return func(r *http.Request) *http.Response {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result()
	}
}

// The handler's response goes out whole (headers, cookies, status, body);
// the lockout response replaces it but keeps what earlier middleware set.
func TestBufferedResponse(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "flash", Value: "x"})
		if r.PostFormValue("password") != "secret" {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Outer", "kept")
			next.ServeHTTP(w, r)
		})
	}
	h := outer(axeshttp.Dispatch(e, login))
	send := func(pass string) *http.Response {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username=alice&password="+pass))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "10.0.0.1:1"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result()
	}

	resp := send("secret")
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"))
	assert.Equal(t, "kept", resp.Header.Get("X-Outer"))
	assert.Len(t, resp.Cookies(), 1)

	send("wrong")
	resp = send("wrong")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "bad credentials\n", string(body))
	resp = send("wrong")
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "kept", resp.Header.Get("X-Outer"))
	assert.Empty(t, resp.Cookies(), "the replaced response's cookie is dropped")
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
}
