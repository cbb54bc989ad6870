package demo

import (
	"bytes"
	"html/template"
)

// HTML is the content type of the pages.
const HTML = "text/html; charset=utf-8"

var pages = template.Must(template.New("").Parse(`
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>axes demo: {{.Title}}</title>
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto}.error{color:#b00}label{display:block;margin:.5em 0}</style>
</head><body><h1>{{.Title}}</h1>{{end}}
{{define "bottom"}}<p><small>axes demo on {{.Framework}}</small></p></body></html>{{end}}

{{define "login"}}{{template "top" .}}
{{if .Error}}<p class="error">{{.Error}}{{if ge .AttemptsLeft 0}} {{.AttemptsLeft}} attempt{{if ne .AttemptsLeft 1}}s{{end}} left.{{end}}</p>{{end}}
<form method="post" action="/login">
<label>Username <input name="{{.UserField}}" value="{{.Username}}" autofocus></label>
<label>Password <input name="{{.PassField}}" type="password"></label>
<button>Log in</button>
</form>
{{template "bottom" .}}{{end}}

{{define "home"}}{{template "top" .}}
{{if .User}}<p>Logged in as <strong>{{.User}}</strong>.</p>
{{if .Admin}}<p><a href="/admin/axes/">Access attempts (admin)</a></p>{{end}}
<form method="post" action="/logout"><button>Log out</button></form>
{{else}}<p>Nobody is logged in. <a href="/login">Log in</a></p>{{end}}
{{template "bottom" .}}{{end}}
`))

// LoginPage is the data of the login form.
type LoginPage struct {
	// Username refills the form after an error.
	Username string
	// Error is shown above the form, with AttemptsLeft when it is >= 0.
	Error        string
	AttemptsLeft int
}

type page struct {
	Title, Framework     string
	UserField, PassField string
	LoginPage
	User  string
	Admin bool
}

func (d *Demo) render(name string, p page) []byte {
	p.Framework, p.UserField, p.PassField = d.framework, d.UserField, d.PassField
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		return []byte("demo: " + err.Error())
	}
	return b.Bytes()
}

// LoginHTML renders the login page.
func (d *Demo) LoginHTML(p LoginPage) []byte {
	return d.render("login", page{Title: "Log in", LoginPage: p})
}

// HomeHTML renders the home page of user ("" when nobody is logged in).
func (d *Demo) HomeHTML(user string) []byte {
	return d.render("home", page{Title: "Home", User: user, Admin: d.IsAdmin(user)})
}
