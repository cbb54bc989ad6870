// Command nethttp is the axes demo login app on net/http's ServeMux. It
// protects the form login with axeshttp.Dispatch and axeshttp.FormInvalid
// (django-axes' axes_dispatch and axes_form_invalid), and the JSON login
// with the report helpers.
//
//	go run ./examples/nethttp   # then open http://127.0.0.1:8080/login (alice / wonderland)
//
// Settings come from the environment: ADDR, DEMO_USERS, AXES_ADMIN_USERS
// and every AXES_* variable (AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME, …).
package main

import (
	"encoding/json"
	"net/http"

	axeshttp "github.com/goaxes/axes/adapters/nethttp"
	"github.com/goaxes/axes/examples/internal/demo"
)

func main() {
	demo.Main("net/http", func(d *demo.Demo) error { return d.ListenHTTP(routes(d)) })
}

func routes(d *demo.Demo) http.Handler {
	e := d.Engine
	mux := http.NewServeMux()

	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		html(w, http.StatusOK, d.HomeHTML(d.UserOf(r)))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		html(w, http.StatusOK, d.LoginHTML(demo.LoginPage{}))
	})

	// The form's failure path, wrapped by FormInvalid: it records the
	// failure, and when that failure locks the client, the lockout response
	// replaces the form.
	invalid := axeshttp.FormInvalid(e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		left := axeshttp.DecisionFrom(e, r).AttemptsLeft()
		html(w, http.StatusUnauthorized, d.LoginHTML(demo.LoginPage{
			Username: r.PostFormValue(d.UserField), Error: "Invalid username or password.", AttemptsLeft: left}))
	}))
	// Dispatch refuses a locked client before the password is checked and
	// reads the outcome from the status when the handler reports nothing: a
	// 303 is a success, the 400 of a missing field is not counted.
	mux.Handle("POST /login", axeshttp.Dispatch(e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass := r.PostFormValue(d.UserField), r.PostFormValue(d.PassField)
		if user == "" || pass == "" {
			html(w, http.StatusBadRequest, d.LoginHTML(demo.LoginPage{
				Username: user, Error: "Please enter a username and a password.", AttemptsLeft: -1}))
			return
		}
		if !d.Check(user, pass) {
			invalid.ServeHTTP(w, r)
			return
		}
		http.SetCookie(w, d.StartSession(user))
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})))

	// The JSON login of django-axes' docs: the handler reports failures and
	// successes itself; Dispatch refuses locked clients and answers the
	// failure that locks with the lockout response. The handler verifies the
	// credentials axes read from the body (never a reading of its own, so
	// the username it verifies is the one counted), and Check would count
	// and check another username before its password is verified.
	mux.Handle("POST /api/login", axeshttp.Dispatch(e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass := axeshttp.Credentials(e, r)
		if err := d.Required(user, pass); err != nil {
			axeshttp.ReportFailure(e, r, user)
			jsonReply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if axeshttp.Check(e, r, user).Refused() {
			return // the lockout response replaces this handler's
		}
		if !d.Check(user, pass) {
			axeshttp.ReportFailure(e, r, user)
			jsonReply(w, http.StatusForbidden, map[string]string{"error": "Invalid username or password."})
			return
		}
		if axeshttp.ReportSuccess(e, r, user).Refused() {
			return
		}
		http.SetCookie(w, d.StartSession(user))
		jsonReply(w, http.StatusOK, map[string]string{"message": "success!"})
	})))

	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(demo.SessionCookie); err == nil {
			user, clear := d.EndSession(c.Value)
			if user != "" {
				axeshttp.ReportLogout(e, r, user)
			}
			http.SetCookie(w, clear)
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})

	mux.Handle(demo.AdminPrefix, d.Admin())
	mux.Handle("GET /metrics", d.Metrics())
	return mux
}

func html(w http.ResponseWriter, status int, page []byte) {
	w.Header().Set("Content-Type", demo.HTML)
	w.WriteHeader(status)
	_, _ = w.Write(page)
}

func jsonReply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
