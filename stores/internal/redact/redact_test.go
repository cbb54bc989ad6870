package redact_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/goaxes/axes/internal/leakcheck"
	"github.com/goaxes/axes/stores/internal/redact"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"":                                                 "",
		"memory":                                           "memory",
		"sqlite:/var/lib/axes.db":                          "sqlite:/var/lib/axes.db",
		"sqlite:/var/lib/a@b=c.db":                         "sqlite:/var/lib/a@b=c.db",
		"redis://127.0.0.1:6379/0":                         "redis://127.0.0.1:6379/0",
		"redis://:pw@127.0.0.1:6379/0":                     "redis://:xxxxx@127.0.0.1:6379/0",
		"rediss://default:pw@h:6380/1":                     "rediss://default:xxxxx@h:6380/1",
		"redis://user@h/0":                                 "redis://user@h/0",
		"redis://h/0?password=pw&db=1":                     "redis://h/0?password=xxxxx&db=1",
		"unix://:pw@/run/redis.sock?db=2":                  "unix://:xxxxx@/run/redis.sock?db=2",
		"unix:///run/redis.sock?password=pw":               "unix:///run/redis.sock?password=xxxxx",
		"postgres://axes:pw@db/axes":                       "postgres://axes:xxxxx@db/axes",
		"postgres://axes:p@s/s?x@db:5432/axes":             "postgres://axes:xxxxx@db:5432/axes",
		"postgresql://db/axes?user=u&password=pw":          "postgresql://db/axes?user=u&password=xxxxx",
		"postgres://db/a?PASSWORD=pw&sslmode=disable":      "postgres://db/a?PASSWORD=xxxxx&sslmode=disable",
		"postgres://db/a?sslpassword=pw&pass%77ord=pw2":    "postgres://db/a?sslpassword=xxxxx&pass%77ord=xxxxx",
		"postgres://db/a?application_name=x&passfile=/p":   "postgres://db/a?application_name=x&passfile=/p",
		"host=db user=u password=pw dbname=axes":           "host=db user=u password=xxxxx dbname=axes",
		"host=db password = 'a b\\' c' dbname=axes":        "host=db password = 'xxxxx' dbname=axes",
		`host=db password=a\ b sslpassword=c`:              "host=db password=xxxxx sslpassword=xxxxx",
		"host=db PassWord='unterminated dbname=axes":       "host=db PassWord='xxxxx",
		"host=db application_name='my app' password=":      "host=db application_name='my app' password=",
		"user:pw@db":                                       "xxxxx@db",
		"%%%://user:pw@host":                               "%%%://user:xxxxx@host",
		"mysql://root:pw@db/axes?auth_token=t&user=root":   "mysql://root:xxxxx@db/axes?auth_token=xxxxx&user=root",
		"redis://h/0?client_name=a@b":                      "redis://h/0?client_name=a@b",
		"postgres://h?password=a@b":                        "postgres://h?password=xxxxx",
		"postgres://u:p?w@h/db?pwd=x&a=b":                  "postgres://u:xxxxx@h/db?pwd=xxxxx&a=b",
		"postgres://u:p@h/db?password=q":                   "postgres://u:xxxxx@h/db?password=xxxxx",
		"postgres://u:p@ss@host/db?sslmode=disable&x=1#fr": "postgres://u:xxxxx@host/db?sslmode=disable&x=1#fr",
	} {
		assert.Equal(t, want, redact.String(in), "String(%q)", in)
	}
}

func TestMessage(t *testing.T) {
	for _, tc := range []struct{ s, msg, want string }{
		{"postgres://u:S3c@ret2PW@127.0.0.1/db", "lookup ret2PW@127.0.0.1: no such host", "lookup xxxxx@127.0.0.1: no such host"},
		{"postgres://u:S3c@pw@h/db", "lookup pw@h: no such host; a pwd", "lookup xxxxx@h: no such host; a pwd"},
		{"postgres://u:S3cret%40PW@h/db", "bad password S3cret@PW or S3cret%40PW", "bad password xxxxx or xxxxx"},
		{"redis://:a%2Fb%22c@h/0", `parse "redis://:a/b\"c@h/0"`, `parse "redis://:xxxxx@h/0"`},
		{"host=h password='horse battery staple'", "cannot parse `host=h password=xxxxx battery staple'`", "cannot parse `host=h password=xxxxx xxxxx xxxxx'`"},
		{"redis://h/0", "dial tcp h:6379: connection refused", "dial tcp h:6379: connection refused"},
		{"postgres://h?password=a@b", "connect to `user=h?password=a database=`: lookup b: no such host; a bad host", "connect to `user=h?password=xxxxx database=`: lookup xxxxx: no such host; xxxxx bad host"},
		{"postgres://h?password=S3c@r7&sslmode=disable", "lookup r7&sslmode=disable: no such host", "lookup xxxxx&sslmode=disable: no such host"},
	} {
		assert.Equal(t, tc.want, redact.Message(tc.msg, tc.s), "Message(%q, %q)", tc.msg, tc.s)
	}
}

func TestError(t *testing.T) {
	const s = "redis://:S3cretPW@127.0.0.1:1/0"
	plain := fmt.Errorf("dial: %w", context.DeadlineExceeded)
	assert.Same(t, plain, redact.Error(plain, s), "an error without the secret is left as it is")
	assert.NoError(t, redact.Error(nil, s))

	leaky := fmt.Errorf("open %s: %w", s, context.DeadlineExceeded)
	err := redact.Error(leaky, s)
	assert.Equal(t, "open redis://:xxxxx@127.0.0.1:1/0: context deadline exceeded", err.Error())
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the hidden error matches what the original matches")
	assert.Nil(t, errors.Unwrap(err), "the hidden error does not unwrap to the one that quotes the secret")
}

// TestForms runs every form of leakcheck through String and through
// Message of a message that quotes the form whole and the host that a
// first-@ parser reads in it.
func TestForms(t *testing.T) {
	for _, f := range leakcheck.Forms("db.example:5432", "cache.example:6379") {
		leakcheck.NoSecret(t, f, "String", redact.String(f.URL))
		msg := "cannot parse " + f.URL
		if rest, ok := strings.CutPrefix(f.URL[strings.Index(f.URL, ":")+1:], "//"); ok {
			if user, host, ok := strings.Cut(rest, "@"); ok {
				msg += "; lookup " + host + " for " + user
				if _, pw, ok := strings.Cut(user, ":"); ok {
					msg += "; bad password " + pw
				}
			}
		}
		leakcheck.NoSecret(t, f, "Message", redact.Message(msg, f.URL))
	}
}

// FuzzPassword writes any password in every form that can hold it and
// checks that neither String nor Message shows it.
func FuzzPassword(f *testing.F) {
	for _, pw := range []string{"S3cretPW", "p@ss", "a b", "it's", `back\slash`, "p/w?x#y:z@"} {
		f.Add(pw)
	}
	kvQuote := strings.NewReplacer(`\`, `\\`, "'", `\'`)
	kvBare := strings.NewReplacer(`\`, `\\`, "'", `\'`, " ", `\ `, "\t", "\\\t", "\n", "\\\n", "\r", "\\\r", "\v", "\\\v", "\f", "\\\f")
	f.Fuzz(func(t *testing.T, pw string) {
		// The mask is made of x: a password with one may show in it.
		if pw == "" || strings.ContainsAny(pw, "x\x00") {
			t.Skip()
		}
		const p = "\x00"
		forms := []string{
			"host=h user=u password='" + p + "' dbname=d",
			"host=h password=" + p + " dbname=d",
			"postgres://u:" + p + "@h/d",
			"redis://:" + p + "@h/0",
			"postgres://h/d?password=" + p + "&sslmode=disable",
		}
		spell := []func(string) string{kvQuote.Replace, kvBare.Replace, url.QueryEscape, url.PathEscape, url.QueryEscape}
		if !strings.ContainsAny(pw, "/?#") {
			forms = append(forms, "postgres://u:"+p+"@h/d", "redis://u:"+p+"@h/0")
			spell = append(spell, strings.Clone, strings.Clone)
		}
		for i, form := range forms {
			s := strings.Replace(form, p, spell[i](pw), 1)
			if got := redact.String(s); strings.Contains(got, pw) && !strings.Contains(strings.Replace(form, p, redact.Mask, 1), pw) {
				t.Errorf("String(%q) = %q shows %q", s, got, pw)
			}
			if got := redact.Message("error: "+s+" (password "+pw+")", s); strings.Contains(got, pw) {
				t.Errorf("Message of %q shows %q: %s", s, pw, got)
			}
		}
	})
}
