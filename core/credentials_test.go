package core_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// errReader fails after giving its bytes.
type errReader struct{ r io.Reader }

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

// The guard reads the body once and the handler reads the guard's
// reading: the body replays every byte, the form accessors give the
// guard's fields, and the query string is never a credential.
func TestBeginHTTPOneReading(t *testing.T) {
	for _, params := range []string{"ip_address", "username"} {
		cfg := core.DefaultConfig()
		cfg.MaxBodyBytes = 300
		cfg.LockoutParameters, _ = core.ParseLockoutParameters(params)
		e, err := core.New(cfg)
		require.NoError(t, err)
		body := "username=alice&password=secret&next=%2F"
		i := 0
		for _, tc := range []struct {
			name, contentType, query, body string
			user, pass, next               string // what the handler's form accessors read
		}{
			{"form", "application/x-www-form-urlencoded", "", body, "alice", "secret", "/"},
			{"form, longer than the inline room", "application/x-www-form-urlencoded", "", body + "&pad=" + strings.Repeat("p", 260-len(body)), "alice", "secret", "/"},
			{"form, username in the query too", "application/x-www-form-urlencoded", "username=bob&password=x&next=q", body, "alice", "secret", "/"},
			{"password only, username in the query", "application/x-www-form-urlencoded", "username=bob", "password=secret", "", "secret", ""},
			{"json", "application/json", "username=bob", `{"username":"alice","password":"secret"}`, "", "", ""},
		} {
			i++
			t.Run(params+"/"+tc.name, func(t *testing.T) {
				target := "/login"
				if tc.query != "" {
					target += "?" + tc.query
				}
				r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(tc.body))
				r.Header.Set("Content-Type", tc.contentType)
				r.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", i) // a client a case
				l := e.BeginHTTP(context.Background(), r)
				defer l.End(context.Background())
				if resp := l.Refusal(); resp != nil {
					// Under username parameters, a username that is not
					// certain is refused: 400, before the handler.
					assert.Equal(t, "username", params)
					assert.Equal(t, http.StatusBadRequest, resp.Status)
					return
				}
				require.Nil(t, l.PrepareHTTP(r))
				assert.Equal(t, tc.user, r.FormValue("username"))
				assert.Equal(t, tc.user, r.PostFormValue("username"))
				assert.Equal(t, tc.pass, r.FormValue("password"))
				assert.Equal(t, tc.next, r.PostFormValue("next"))
				got, err := io.ReadAll(r.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.body, string(got), "the handler reads every byte")
			})
		}
	}
}

// A body whose read fails is the client's fault: 400, nothing counted.
func TestBeginHTTPBodyReadFails(t *testing.T) {
	for _, params := range []string{"ip_address", "username"} {
		cfg := core.DefaultConfig()
		cfg.LockoutParameters, _ = core.ParseLockoutParameters(params)
		e, err := core.New(cfg)
		require.NoError(t, err)
		for range 5 {
			r := httptest.NewRequest(http.MethodPost, "/login", &errReader{strings.NewReader("username=alice&pass")})
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			l := e.BeginHTTP(context.Background(), r)
			resp := l.Refusal()
			if resp == nil {
				resp = l.PrepareHTTP(r)
			}
			require.NotNil(t, resp, params)
			assert.Equal(t, http.StatusBadRequest, resp.Status, params)
			l.End(context.Background())
		}
		d := e.Status(context.Background(), &core.Request{RemoteAddr: "192.0.2.1:1234", Username: "alice"})
		assert.Zero(t, d.Failures, "%s: a client fault counts nothing", params)
	}
}

// Under username parameters, a request whose username the guard cannot
// read is refused with 400 and counted as a failure of its IP: the
// limit-th one is answered with the lockout.
func TestUnreadableUsernameCountedByIP(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.LockoutParameters, _ = core.ParseLockoutParameters("username")
	e, err := core.New(cfg)
	require.NoError(t, err)
	statuses := []int{}
	for range 4 {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"username":"alice","password":"x"}`))
		r.Header.Set("Content-Type", "text/plain")
		l := e.BeginHTTP(context.Background(), r)
		resp := l.Refusal()
		require.NotNil(t, resp)
		statuses = append(statuses, resp.Status)
		if resp.Status == http.StatusBadRequest {
			assert.Contains(t, string(resp.Body), "content type")
		}
		l.End(context.Background())
	}
	assert.Equal(t, []int{400, 400, 429, 429}, statuses)
}

// Without Middleware or Dispatch, Check looks without counting; with an
// attempt begun for another username, it checks and counts the username
// the handler is about to verify.
func TestLoginCheck(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.LockoutParameters, _ = core.ParseLockoutParameters("username")
	e, err := core.New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	for range 3 {
		e.ReportFailure(ctx, &core.Request{RemoteAddr: "192.0.2.1:1", Username: "alice"})
	}
	post := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	bare := e.HTTPLogin(post("username=bob&password=x"))
	assert.True(t, bare.Check(ctx, "alice").Refused())
	assert.NotNil(t, bare.Lockout())
	assert.False(t, bare.Check(ctx, "carol").Refused())
	assert.Zero(t, e.Status(ctx, &core.Request{RemoteAddr: "192.0.2.1:1", Username: "carol"}).Failures, "a bare Check counts nothing")

	r := post("username=bob&password=x")
	l := e.BeginHTTP(ctx, r)
	require.Nil(t, l.Refusal())
	require.Nil(t, l.PrepareHTTP(r))
	user, pass := l.Credentials()
	assert.Equal(t, "bob", user)
	assert.Equal(t, "x", pass)
	assert.True(t, l.Check(ctx, "ALICE").Refused(), "alice is locked, however spelt")
	assert.True(t, l.Succeed(ctx, "alice").Refused(), "a success for a locked username is no login")
	l.End(ctx)
	assert.Zero(t, e.Status(ctx, &core.Request{RemoteAddr: "192.0.2.1:1", Username: "bob"}).Failures, "bob's attempt was taken back")
}

// A request whose context ended before its handler (the client went away,
// its deadline passed) is answered 400 and counts nothing.
func TestPrepareHTTPContextEnded(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	for range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/login", strings.NewReader("username=alice&password=x"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		l := e.BeginHTTP(r.Context(), r)
		require.Nil(t, l.Refusal(), "the store is no part of the client's going away")
		cancel()
		resp := l.PrepareHTTP(r)
		require.NotNil(t, resp)
		assert.Equal(t, http.StatusBadRequest, resp.Status)
		l.End(context.Background())
	}
	assert.Zero(t, e.Status(context.Background(), &core.Request{RemoteAddr: "192.0.2.1:1234"}).Failures)
}
