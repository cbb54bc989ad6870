// Package demo is what the four example apps share beside their web
// framework: settings from the environment, demo users with bcrypt-hashed
// passwords, sessions, the HTML pages, the admin page's mount point and a
// server that shuts down gracefully. The login handlers themselves, where
// axes is wired in, live in each example's main.go.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"

	"github.com/goaxes/axes/admin"
	"github.com/goaxes/axes/core"
	axesprom "github.com/goaxes/axes/metrics/prometheus"
	"github.com/goaxes/axes/stores/storeurl"
)

// SessionCookie names the session cookie; AdminPrefix is where the admin
// page is mounted.
const (
	SessionCookie = "axes_demo_session"
	AdminPrefix   = "/admin/axes/"
)

// Demo is one running demo app. Safe for concurrent use.
type Demo struct {
	// Engine is the axes engine, configured from the AXES_* variables.
	Engine *core.Engine
	// UserField and PassField name the login form's and the JSON login's
	// fields (AXES_USERNAME_FORM_FIELD, AXES_PASSWORD_FORM_FIELD).
	UserField, PassField string

	framework, addr, storeName string
	users                      map[string][]byte // bcrypt hashes
	admins                     []string
	store                      io.Closer
	metrics                    *prometheus.Registry
	mu                         sync.Mutex
	sessions                   map[string]string // token → username
}

// New reads the environment: ADDR (default 127.0.0.1:8080), DEMO_USERS
// (default alice:wonderland,bob:builder), AXES_ADMIN_USERS, AXES_STORE and
// every AXES_* setting. It hashes the demo passwords with bcrypt.
func New(framework string) (*Demo, error) {
	cfg, err := core.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	d := &Demo{framework: framework, addr: env("ADDR", "127.0.0.1:8080"), users: map[string][]byte{}, sessions: map[string]string{}}
	d.storeName = env("AXES_STORE", "memory")
	store, closer, err := storeurl.Open(context.Background(), d.storeName)
	if err != nil {
		return nil, fmt.Errorf("AXES_STORE: %w", err)
	}
	d.storeName = storeurl.Redact(d.storeName)
	cfg.Store, d.store = store, closer
	// Prometheus metrics: events counted, and the operations of a store
	// behind a network or a disk timed (timing the memory store, which
	// answers in well under a microsecond, would cost more than its calls
	// and take it off the engine's direct path).
	d.metrics = prometheus.NewRegistry()
	m, err := axesprom.New(d.metrics, axesprom.Options{})
	if err != nil {
		_ = closer.Close()
		return nil, err
	}
	cfg.Events = core.Events{m, cfg.Events}
	if _, mem := cfg.Store.(*core.MemoryStore); !mem {
		cfg.Store = axesprom.InstrumentStore(cfg.Store, m)
	}
	if d.Engine, err = core.New(cfg); err != nil {
		_ = closer.Close()
		return nil, err
	}
	_ = m.WatchLockedClients(d.Engine, axesprom.LockedClientsOptions{}) // every store here keeps records
	d.UserField, d.PassField = d.Engine.Config().UsernameFormField, d.Engine.Config().PasswordFormField
	for _, pair := range strings.Split(env("DEMO_USERS", "alice:wonderland,bob:builder"), ",") {
		name, pass, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || name == "" || pass == "" {
			_ = closer.Close()
			return nil, fmt.Errorf("demo: DEMO_USERS: %q is not user:password", pair)
		}
		if d.users[name], err = bcrypt.GenerateFromPassword([]byte(pass), bcrypt.DefaultCost); err != nil {
			_ = closer.Close()
			return nil, fmt.Errorf("demo: DEMO_USERS: %w", err)
		}
	}
	for _, name := range strings.Split(os.Getenv("AXES_ADMIN_USERS"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			d.admins = append(d.admins, name)
		}
	}
	return d, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// dummyHash keeps a check of an unknown user as slow as a known one's.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)

// Check reports whether password is username's.
func (d *Demo) Check(username, password string) bool {
	checks.Add(1)
	countCheck(username)
	hash, ok := d.users[username]
	if !ok {
		hash = dummyHash
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && ok
}

// Required checks that a login gave both a username and a password.
func (d *Demo) Required(username, password string) error {
	if username == "" || password == "" {
		return fmt.Errorf("%q and %q are required", d.UserField, d.PassField)
	}
	return nil
}

// StartSession logs username in and returns the session cookie to set.
func (d *Demo) StartSession(username string) *http.Cookie {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	d.mu.Lock()
	d.sessions[token] = strings.Clone(username) // fiber's strings do not outlive the request
	d.mu.Unlock()
	return &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// EndSession logs the session's user out and returns who it was ("" when
// nobody) and the cookie that clears the session.
func (d *Demo) EndSession(token string) (string, *http.Cookie) {
	d.mu.Lock()
	user := d.sessions[token]
	delete(d.sessions, token)
	d.mu.Unlock()
	return user, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1}
}

// User is the session's user, "" when nobody is logged in.
func (d *Demo) User(token string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sessions[token]
}

// UserOf is the user logged in on r.
func (d *Demo) UserOf(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return d.User(c.Value)
}

// IsAdmin reports whether username is in AXES_ADMIN_USERS.
func (d *Demo) IsAdmin(username string) bool {
	return username != "" && slices.Contains(d.admins, username)
}

// AdminAllowed reports whether r's user may see the admin page: someone
// logged in and named in AXES_ADMIN_USERS.
func (d *Demo) AdminAllowed(r *http.Request) bool { return d.IsAdmin(d.UserOf(r)) }

// AdminHandler builds the admin page of docs/design.md §7 that every example
// mounts at AdminPrefix: the admin package's handler, open to the users that
// AdminAllowed lets in. A variable, so that an app can put its own there.
var AdminHandler = func(d *Demo) http.Handler {
	h := admin.Handler(d.Engine, admin.Options{Authorize: d.AdminAllowed, Session: admin.CookieSession(SessionCookie), Title: "axes demo"})
	return http.StripPrefix(strings.TrimSuffix(AdminPrefix, "/"), h)
}

// Admin is the admin page, to mount at AdminPrefix.
func (d *Demo) Admin() http.Handler { return AdminHandler(d) }

// Metrics serves the Prometheus metrics, to mount at /metrics.
func (d *Demo) Metrics() http.Handler {
	return promhttp.HandlerFor(d.metrics, promhttp.HandlerOpts{})
}

// Serve listens on ADDR, prints "listening on http://HOST:PORT" on
// stdout, runs serve until SIGINT or SIGTERM, then shuts down gracefully
// with shutdown and closes the store.
func (d *Demo) Serve(serve func(net.Listener) error, shutdown func(context.Context) error) error {
	defer d.store.Close()
	ln, err := net.Listen("tcp", d.addr)
	if err != nil {
		return err
	}
	if err := startDebug(); err != nil {
		return err
	}
	// Signals are caught before the address is announced, so that a SIGTERM
	// right after start-up is a graceful stop too.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := d.Engine.Config()
	d.Engine.LogStartup(context.Background()) // "axes: BEGIN version …, blocking by ip_address" and warnings
	fmt.Printf("listening on http://%s\n", ln.Addr())
	slog.Info("axes demo", "framework", d.framework, "addr", ln.Addr().String(), "store", d.storeName,
		"failure_limit", cfg.FailureLimit, "cooloff", cfg.CoolOff.String(),
		"lockout_parameters", core.FormatLockoutParameters(cfg.LockoutParameters), "username_field", d.UserField)
	errc := make(chan error, 1)
	go func() { errc <- serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("axes demo: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ListenHTTP serves h with net/http (net/http, gin and echo apps).
func (d *Demo) ListenHTTP(h http.Handler) error {
	// Slow clients are cut off, headers and bodies alike (slowloris).
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	return d.Serve(srv.Serve, srv.Shutdown)
}

// Main runs an example: it builds the demo, lets app serve it, and exits
// with a message on error.
func Main(framework string, app func(*Demo) error) {
	d, err := New(framework)
	if err == nil {
		err = app(d)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
