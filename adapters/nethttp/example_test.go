package axeshttp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	axeshttp "github.com/goaxes/axes/adapters/nethttp"
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

// Middleware protects the login routes of a mux: the handler only answers
// 401 or 303; the middleware counts, locks and refuses.
func ExampleMiddleware() {
	engine := newEngine()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("username") != "alice" || r.PostFormValue("password") != "wonderland" {
			http.Error(w, "invalid credentials", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	h := axeshttp.Middleware(engine, axeshttp.Options{Paths: []string{"/login"}})(mux)

	post(h, "alice", "guess1")
	post(h, "alice", "guess2")
	post(h, "alice", "guess3")     // the 3rd failure is answered with the lockout
	post(h, "alice", "wonderland") // refused before the handler runs
	// Output:
	// 401 invalid credentials
	// 401 invalid credentials
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
}

// Dispatch and FormInvalid are django-axes' axes_dispatch and
// axes_form_invalid: Dispatch wraps the login handler, FormInvalid its
// failure path, which reads the decision to show the attempts left.
func ExampleDispatch() {
	engine := newEngine()
	invalid := axeshttp.FormInvalid(engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		left := axeshttp.DecisionFrom(engine, r).AttemptsLeft()
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "invalid credentials, attempts left: %d", left)
	}))
	login := axeshttp.Dispatch(engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("password") != "wonderland" {
			invalid.ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}))

	post(login, "alice", "guess1")
	post(login, "alice", "wonderland")
	post(login, "alice", "guess2")
	post(login, "alice", "guess3")
	// Output:
	// 401 invalid credentials, attempts left: 2
	// 303
	// 401 invalid credentials, attempts left: 1
	// 429 Account locked: too many login attempts. Contact an admin to unlock your account.
}

// The JSON login of django-axes' docs reports failures and successes
// itself; Dispatch refuses a locked client and answers the failure that
// locks with the JSON lockout.
func ExampleReportFailure() {
	engine := newEngine()
	login := axeshttp.Dispatch(engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Username == "" || in.Password == "" {
			axeshttp.ReportFailure(engine, r, in.Username) // a bad request counts, as in django-axes' docs
			http.Error(w, `{"error":"username and password required"}`, http.StatusBadRequest)
			return
		}
		if in.Password != "wonderland" {
			d := axeshttp.ReportFailure(engine, r, in.Username)
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"error":"invalid credentials","attempts_left":%d}`, d.AttemptsLeft())
			return
		}
		axeshttp.ReportSuccess(engine, r, in.Username)
		fmt.Fprint(w, `{"message":"success!"}`)
	}))
	for _, body := range []string{`{"username":"alice","password":"wonderland"}`, `{"username":"alice","password":"nope"}`, `{"username":`, `{"username":"alice"}`} {
		r := httptest.NewRequest(http.MethodPost, "/api/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		login.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 {"message":"success!"}
	// 403 {"error":"invalid credentials","attempts_left":2}
	// 400 {"error":"username and password required"}
	// 429 {"failure_limit":3,"failure_count":3,"username":"alice"}
}
