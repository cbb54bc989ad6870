// Package storeurl opens the store that an AXES_STORE value names: the one
// parser of store URLs, shared by the example apps and the CLI.
//
//	memory                         the in-process memory store (the default)
//	sqlite:PATH                    an SQLite file (sqlite::memory: for a private in-memory database)
//	postgres://user:pw@host/db     PostgreSQL (postgresql:// too)
//	redis://host:6379/0            Redis (rediss:// for TLS)
package storeurl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/internal/redact"
	"github.com/goaxes/axes/stores/pgstore"
	"github.com/goaxes/axes/stores/redisstore"
	"github.com/goaxes/axes/stores/sqlitestore"
)

// ErrBadURL is wrapped by every error about the form of a store URL.
var ErrBadURL = errors.New("axes: bad store URL")

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// Open opens the store s names and returns it with the Closer that releases
// what Open opened. Its errors never show a secret of s (see Redact), even
// when a driver quotes a part of s that it misread.
func Open(ctx context.Context, s string) (core.Store, io.Closer, error) {
	s = strings.TrimSpace(s)
	st, c, err := open(ctx, s)
	if err != nil {
		return nil, nil, redact.Error(err, s)
	}
	return st, c, nil
}

func open(ctx context.Context, s string) (core.Store, io.Closer, error) {
	switch {
	case s == "" || s == "memory":
		m := core.NewMemoryStore(core.MemoryOptions{})
		return m, m, nil
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
		if path == "" {
			return nil, nil, fmt.Errorf("%w: sqlite: needs a path, as in sqlite:/var/lib/app/axes.db", ErrBadURL)
		}
		st, err := sqlitestore.Open(path, sqlitestore.Options{})
		if err != nil {
			return nil, nil, err
		}
		return st, st, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return nil, nil, fmt.Errorf("%w: %q: want memory, sqlite:PATH, postgres://… or redis://…", ErrBadURL, Redact(s))
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		if u.Host == "" {
			return nil, nil, fmt.Errorf("%w: %s: no host", ErrBadURL, Redact(s))
		}
		// The driver ends the user info at its first @ before a /, and
		// url.Parse at its last before a /, ? or #: when they differ, the
		// driver would connect to a host made of a part of the password.
		auth, _, _ := strings.Cut(s[len(u.Scheme)+3:], "/")
		if at := strings.IndexByte(auth, '@'); at >= 0 && (strings.Count(auth, "@") > 1 || strings.ContainsAny(auth[:at], "?#")) {
			return nil, nil, fmt.Errorf("%w: %s: an @ in the user info or the parameters: write it %%40 (and a ? %%3F, a # %%23)", ErrBadURL, Redact(s))
		}
		st, err := pgstore.Open(ctx, s, pgstore.Options{})
		if err != nil {
			return nil, nil, err
		}
		return st, st, nil
	case "redis", "rediss":
		if u.Host == "" {
			return nil, nil, fmt.Errorf("%w: %s: no host", ErrBadURL, Redact(s))
		}
		st, err := redisstore.Open(s, redisstore.Options{})
		if err != nil {
			return nil, nil, err
		}
		return st, st, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown scheme %q in %s: want memory, sqlite:PATH, postgres://… or redis://…", ErrBadURL, u.Scheme, Redact(s))
}

// Redact returns s with its secrets replaced by xxxxx, for logs: the
// password of a URL's user info (all of it, up to the last @, so that an
// unescaped @, /, ? or # in it does not leave a part out), the value of
// every URL parameter whose name holds password, passwd, secret or token
// in any case (PostgreSQL's password and sslpassword among them), and the
// same in a PostgreSQL keyword/value string (host=db password='s p').
func Redact(s string) string {
	return redact.String(strings.TrimSpace(s))
}

// RedactError returns err, or when its message shows a secret of the store
// URL s, an error with that secret replaced by xxxxx that matches what err
// matches with errors.Is. Open's errors need no more; this is for the
// errors of the store Open returned.
func RedactError(err error, s string) error {
	return redact.Error(err, strings.TrimSpace(s))
}
