package core_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// foldedSecrets are spellings of sensitive names that encoding/json
// matches to a struct field of that name (Unicode simple folding, as
// strings.EqualFold: ſ is s, the Kelvin sign K is k), each with its own
// secret value.
var foldedSecrets = map[string]string{
	"Paſſword":            "secret-long-s",
	"PASSWORD":            "secret-upper",
	"pAsSwOrD":            "secret-mixed",
	"to\u212Aen":          "secret-kelvin",
	"ſecret":              "secret-long-s-2",
	"PASSWD":              "secret-passwd",
	"Pin":                 "secret-pin",
	"new_paſſword":        "secret-new",
	"CSRFMIDDLEWAREToKEN": "secret-csrf",
}

// What encoding/json would read into a Password (or Token, Secret…)
// field is masked in the records: the form, a JSON body and the query
// string.
func TestMaskingFoldsAsEncodingJSON(t *testing.T) {
	// The premise: encoding/json fills these fields from those keys.
	var login struct {
		Password, Token, Secret string
	}
	body, err := json.Marshal(map[string]string{"Paſſword": "p", "to\u212Aen": "t", "ſecret": "s"})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &login))
	require.Equal(t, "p", login.Password, "encoding/json matches Paſſword to Password")
	require.Equal(t, "t", login.Token, "encoding/json matches to\\u212Aen to Token")
	require.Equal(t, "s", login.Secret, "encoding/json matches ſecret to Secret")

	e, _ := newEngine(t, func(c *core.Config) {
		c.SensitiveParameters = append(append([]string{}, core.DefaultSensitiveParameters...), "PIN ")
	})
	ctx := context.Background()
	jsonBody, err := json.Marshal(foldedSecrets)
	require.NoError(t, err)
	form := url.Values{}
	query := url.Values{}
	for k, v := range foldedSecrets {
		form.Set(k, v)
		query.Set(k, v)
	}
	jsonForm, err := core.ParseFields("application/json", jsonBody, true)
	require.NoError(t, err)
	forms := map[string]url.Values{"form": form, "json": jsonForm}
	require.Len(t, forms["json"], len(foldedSecrets), "the JSON body's fields")
	for name, f := range forms {
		ip := map[string]string{"form": "10.0.0.1", "json": "10.0.0.2"}[name]
		e.ReportFailure(ctx, &core.Request{RemoteAddr: ip + ":1", Method: http.MethodPost, Path: "/login",
			RawQuery: query.Encode(), Username: "alice", Form: f, Header: http.Header{"User-Agent": {"ua"}}})
		rs, ok := e.Records()
		require.True(t, ok)
		rows, total, err := rs.Attempts(ctx, core.ListQuery{Filter: core.Filter{IP: ip}})
		require.NoError(t, err)
		require.Equal(t, 1, total)
		rec := rows[0]
		for k, secret := range foldedSecrets {
			assert.NotContains(t, rec.PostData, secret, "%s body: %q unmasked", name, k)
			assert.NotContains(t, rec.GetData, secret, "query string: %q unmasked", k)
			assert.Contains(t, rec.PostData, k+"=********************", "%s body: %q", name, k)
			assert.Contains(t, rec.GetData, k+"=********************", "query string: %q", k)
		}
		assert.Equal(t, len(foldedSecrets), strings.Count(rec.PostData, "********************"), "%s body: masked values", name)
	}
}

// Names that only look alike stay unmasked: folding is simple case
// folding, not a similarity.
func TestMaskingKeepsOtherNames(t *testing.T) {
	e, _ := newEngine(t, nil)
	ctx := context.Background()
	f := url.Values{"pass_word": {"v1"}, "passwords": {"v2"}, "Paßword": {"v3"}, "usernameX": {"v4"}}
	e.ReportFailure(ctx, &core.Request{RemoteAddr: "10.0.0.3:1", Method: http.MethodPost, Path: "/login", Form: f})
	rs, _ := e.Records()
	rows, _, err := rs.Attempts(ctx, core.ListQuery{})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		assert.Contains(t, rows[0].PostData, "="+v+"\n")
	}
}
