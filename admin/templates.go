package admin

import (
	"embed"
	"html/template"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

var funcs = template.FuncMap{
	// when formats a time in UTC; the zero time is a dash.
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	// dash shows "—" for empty text.
	"dash": func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	},
}

// templates holds one template set per page: the layout and the page's
// "content".
var templates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, page := range []string{"overview", "attempts", "access-logs", "failure-logs", "confirm", "error"} {
		m[page] = template.Must(template.New(page).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html"))
	}
	return m
}()
