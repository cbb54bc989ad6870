package admin

import (
	"embed"
	"html/template"
	"time"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/internal/visible"
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
	// dash shows "—" for empty text, other text as show does.
	"dash": func(s string) string {
		if s == "" {
			return "—"
		}
		return visible.String(core.StoreUnescape(s), 0)
	},
	// show spells out the control and format characters of attacker-
	// controlled text (\x1b, \x00, \u202e, \u200b) as the client sent it
	// (the stored text unescaped: core.StoreUnescape), as the CLI does, so
	// that nothing is hidden or reordered on the page; html/template still
	// escapes the result.
	"show": func(s string) string { return visible.String(core.StoreUnescape(s), 0) },
	// lines is show for the lines of GET and POST data.
	"lines": func(s string) string { return visible.Lines(core.StoreUnescape(s)) },
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
