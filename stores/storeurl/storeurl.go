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
	"github.com/goaxes/axes/stores/pgstore"
	"github.com/goaxes/axes/stores/redisstore"
	"github.com/goaxes/axes/stores/sqlitestore"
)

// ErrBadURL is wrapped by every error about the form of a store URL.
var ErrBadURL = errors.New("axes: bad store URL")

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// Open opens the store s names and returns it with the Closer that releases
// what Open opened. Errors never echo a password.
func Open(ctx context.Context, s string) (core.Store, io.Closer, error) {
	s = strings.TrimSpace(s)
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
		return nil, nil, fmt.Errorf("%w: %q: want memory, sqlite:PATH, postgres://… or redis://…", ErrBadURL, redact(s))
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		if u.Host == "" {
			return nil, nil, fmt.Errorf("%w: %s: no host", ErrBadURL, u.Redacted())
		}
		st, err := pgstore.Open(ctx, s, pgstore.Options{})
		if err != nil {
			return nil, nil, err
		}
		return st, st, nil
	case "redis", "rediss":
		if u.Host == "" {
			return nil, nil, fmt.Errorf("%w: %s: no host", ErrBadURL, u.Redacted())
		}
		st, err := redisstore.Open(s, redisstore.Options{})
		if err != nil {
			return nil, nil, err
		}
		return st, st, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown scheme %q in %s: want memory, sqlite:PATH, postgres://… or redis://…", ErrBadURL, u.Scheme, u.Redacted())
}

// redact hides anything that looks like credentials in an unparsable URL.
func redact(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "xxxxx@" + s[i+1:]
		}
		return "xxxxx@" + s[i+1:]
	}
	return s
}

// Redact returns s with any password replaced, for logs.
func Redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return redact(s)
}
