package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/storeurl"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); without
// it the module version that go install recorded is shown.
var version string

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the store or the command failed
	exitUsage = 2 // bad command line
)

const usageText = `axes inspects and resets the login lockouts that axes keeps in a store
(the counterpart of django-axes' manage.py axes_* commands).

Usage:
  axes [--store URL] COMMAND [ARGUMENTS] [FLAGS]

Commands:
  list                       list attempt records: IP, username, user agent, failures,
                             last attempt, locked or not and until when
                             (--json, --search TEXT, --locked, --limit N)
  reset                      reset every lockout and attempt record
  reset IP...                reset these IP addresses (the older spelling of reset-ip)
  reset-ip IP...             reset the lockouts of these IP addresses
  reset-username NAME...     reset the lockouts of these usernames (alias: reset-user)
  reset-ip-username IP NAME  reset the lockouts of this IP and username together
  reset-logs [--age D]       remove access logs older than D (default 30d)
  reset-failure-logs [--age D]
                             remove failure logs older than D (default 30d)
  version                    print the version
  help [COMMAND]             print this help

Flags (before or after the command):
  --store URL     the store: sqlite:PATH, postgres://..., redis://... (default: $AXES_STORE)
  --timeout D     give up on the store after D (default 1m)

D is a Go duration (12h, 90m) or a number of days (30d, or a bare 30 as in django-axes).
The engine's settings come from the AXES_* environment variables (AXES_FAILURE_LIMIT,
AXES_COOLOFF_TIME, AXES_LOCKOUT_PARAMETERS, ...), so "locked" means what it means to the app.
Exit status: 0 on success, 1 when the store or the command fails, 2 for a bad command line.
`

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// cli is one invocation.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	cmd            string
	storeURL       string
	timeout        time.Duration
	// progress is true when stdout is a terminal: long prunes report how far
	// they are.
	progress bool
}

// run runs the command line args (without the program name) and returns the
// exit status.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv, progress: isTerminal(stdout)}
	err := c.main(args)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	prefix := "axes"
	if c.cmd != "" {
		prefix += " " + c.cmd
	}
	// Whatever the error, it shows no secret of the store URL (the store's
	// own errors may quote a part of it).
	raw := c.storeURL
	if raw == "" {
		raw = getenv("AXES_STORE")
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "%s: %s\nRun 'axes help' for usage.\n", prefix, storeurl.RedactError(ue, raw))
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: %s\n", prefix, trimAxes(storeurl.RedactError(err, raw).Error()))
	return exitError
}

// trimAxes drops the "axes: " prefixes that wrapped errors repeat.
func trimAxes(msg string) string {
	for strings.HasPrefix(msg, "axes: ") {
		msg = strings.TrimPrefix(msg, "axes: ")
	}
	return msg
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// flags returns a flag set with the flags every command takes.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.storeURL, "store", c.storeURL, "the store URL")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "give up on the store after this long")
	return fs
}

// parse parses flags anywhere among the positional arguments ("--" ends
// the flags) and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag.Parse stops at "--" and swallows it; a "--" left in rest
		// was an argument after it. Detect the swallowed one by comparing.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (c *cli) main(args []string) error {
	c.timeout = time.Minute
	global := c.flags("axes")
	var showVersion bool
	global.BoolVar(&showVersion, "version", false, "print the version")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.stdout, usageText)
			return nil
		}
		return usageError{err.Error()}
	}
	args = global.Args()
	if showVersion {
		return c.version()
	}
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usageText)
		return usagef("no command given")
	}
	c.cmd, args = args[0], args[1:]
	switch c.cmd {
	case "help", "-h", "--help":
		c.cmd = ""
		fmt.Fprint(c.stdout, usageText)
		return nil
	case "version":
		return c.version()
	case "list":
		return c.list(args)
	case "reset":
		return c.resetCmd(args)
	case "reset-ip":
		return c.resetIPs(args)
	case "reset-username", "reset-user":
		return c.resetUsernames(args)
	case "reset-ip-username":
		return c.resetIPUsername(args)
	case "reset-logs":
		return c.pruneCmd(args, accessLogs)
	case "reset-failure-logs":
		return c.pruneCmd(args, failureLogs)
	}
	cmd := c.cmd
	c.cmd = ""
	return usagef("unknown command %q", cmd)
}

func (c *cli) version() error {
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(c.stdout, "axes %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// session is an open store with an engine on it.
type session struct {
	engine *core.Engine
	store  core.Store
	closer io.Closer
	where  string // the store URL without its secrets, for messages
}

func (s *session) Close() {
	if s.closer != nil {
		_ = s.closer.Close()
	}
}

// storeErr names the store in an error from it.
func (s *session) storeErr(err error) error {
	return fmt.Errorf("store %s: %s", s.where, strings.ReplaceAll(trimAxes(err.Error()), ": axes: ", ": "))
}

// quietRedis drops go-redis's own log lines (dial retries): the command
// reports the error once, itself.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// open opens the store and builds an engine on it with the settings of the
// environment.
func (c *cli) open(ctx context.Context) (*session, error) {
	raw := c.storeURL
	if raw == "" {
		raw = c.getenv("AXES_STORE")
	}
	if strings.TrimSpace(raw) == "" {
		return nil, usagef("no store given: pass --store URL or set AXES_STORE (sqlite:PATH, postgres://..., redis://...)")
	}
	if c.timeout <= 0 {
		return nil, usagef("--timeout %s: want a duration > 0", c.timeout)
	}
	where := storeurl.Redact(raw)
	if strings.TrimSpace(raw) == "memory" {
		fmt.Fprintln(c.stderr, "axes: warning: the memory store lives inside each app process; this command sees an empty one")
	}
	cfg, err := core.ConfigFromEnv(c.getenv)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	octx, cancel := context.WithTimeout(ctx, min(c.timeout, 15*time.Second))
	defer cancel()
	redis.SetLogger(quietRedis{})
	st, closer, err := storeurl.Open(octx, raw)
	if err != nil {
		return nil, fmt.Errorf("cannot open store %s: %s", where, trimAxes(err.Error()))
	}
	cfg.Store = st
	cfg.StoreTimeout = c.timeout
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := core.New(cfg)
	if err != nil {
		_ = closer.Close()
		return nil, fmt.Errorf("settings: %w", err)
	}
	return &session{engine: e, store: st, closer: closer, where: where}, nil
}

// records returns the store's records or an error saying it keeps none.
func (s *session) records() (core.RecordStore, error) {
	rs, ok := s.engine.Records()
	if !ok {
		return nil, fmt.Errorf("store %s keeps no attempt records", s.where)
	}
	return rs, nil
}

// openRecords opens the store (open) and returns its records; the caller
// closes the session when err is nil.
func (c *cli) openRecords(ctx context.Context) (*session, core.RecordStore, error) {
	s, err := c.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	rs, err := s.records()
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, rs, nil
}
