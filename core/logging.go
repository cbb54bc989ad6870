package core

import (
	"context"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// maskValue replaces sensitive values, as django-axes does (20 asterisks).
const maskValue = "********************"

// emit logs ev in django-axes' words, one line per event, then hands it to
// the configured EventHandler. It runs after the store call, outside any
// lock.
func (e *Engine) emit(ctx context.Context, p *prepared, ev Event) {
	if ctx == nil {
		ctx = context.Background()
	}
	ev.Username, ev.IP = p.facts.Username, p.facts.IP
	ev.UserAgent, ev.Path, ev.Method = p.facts.UserAgent, p.facts.Path, p.facts.Method
	level, msg := slog.LevelInfo, ""
	switch ev.Kind {
	case EventLoginFailed:
		level, msg = slog.LevelWarn, "axes: new login failure"
	case EventLockedOut:
		level, msg = slog.LevelWarn, "axes: locking out client after repeated login failures"
	case EventLoggedIn:
		msg = "axes: successful login"
	case EventLoggedOut:
		msg = "axes: successful logout"
	case EventRefused:
		msg = "axes: refused login attempt"
	case EventStoreError:
		level, msg = slog.LevelError, "axes: store error"
	case EventReset:
		msg = "axes: reset attempts"
	}
	logIt := e.log.Enabled(ctx, level)
	var skipped int64
	if logIt && ev.Kind == EventRefused {
		logIt, skipped = e.refusalLog.allow(ev.Time)
	}
	if logIt {
		attrs := e.clientAttrs(p)
		switch ev.Kind {
		case EventLoginFailed, EventLockedOut, EventRefused:
			attrs = append(attrs, slog.Int("failures", ev.Failures), slog.Int("limit", ev.Limit))
			if ev.Kind == EventRefused {
				attrs = append(attrs, slog.String("reason", ev.Outcome.String()))
				if skipped > 0 {
					attrs = append(attrs, slog.Int64("refusals_not_logged", skipped))
				}
			}
		case EventStoreError:
			attrs = append(attrs, slog.String("op", ev.Op), slog.String("policy", ev.Outcome.String()), slog.String("error", ev.Err.Error()))
		case EventReset:
			attrs = append(attrs, slog.String("kind", ev.ResetKind), slog.Int("removed", ev.Removed))
		}
		e.log.LogAttrs(ctx, level, msg, attrs...)
	}
	if e.cfg.Events != nil {
		if e.isSensitive("username") {
			ev.Username = maskValue
		}
		if e.isSensitive("ip_address") {
			ev.IP = maskValue
		}
		e.cfg.Events.HandleEvent(ctx, ev)
	}
}

// refusalLogEvery spaces the log lines of refused attempts: under a flood
// of refusals a line each would cost more than the refusal itself and bury
// the log. Every refusal still reaches the EventHandler (metrics count them
// all); the next line logged says how many were not.
const refusalLogEvery = time.Second

// logThrottle lets one line through per refusalLogEvery and counts the
// others.
type logThrottle struct {
	next    atomic.Int64 // unix nanoseconds from which a line may be logged
	skipped atomic.Int64
}

// allow reports whether a line may be logged at now and, if so, how many
// were held back since the last one.
func (t *logThrottle) allow(now time.Time) (bool, int64) {
	n := now.UnixNano()
	next := t.next.Load()
	if n >= next && t.next.CompareAndSwap(next, n+int64(refusalLogEvery)) {
		return true, t.skipped.Swap(0)
	}
	t.skipped.Add(1)
	return false, 0
}

// clientAttrs describes the client as django-axes' client string does: all
// of username, IP, user agent and path when Verbose, else only the lockout
// parameters and the path; sensitive names masked.
func (e *Engine) clientAttrs(p *prepared) []slog.Attr {
	var params Combination
	for _, c := range e.cfg.LockoutParameters {
		params |= c
	}
	attrs := make([]slog.Attr, 0, 8)
	add := func(name string, on bool, v string) {
		if !on && !e.cfg.Verbose {
			return
		}
		if e.isSensitive(name) && v != "" {
			v = maskValue
		}
		attrs = append(attrs, slog.String(name, v))
	}
	add("username", params.Has(ParamUsername), p.facts.Username)
	add("ip_address", params.Has(ParamIPAddress), p.facts.IP)
	add("user_agent", params.Has(ParamUserAgent), clip(p.facts.UserAgent, 256))
	attrs = append(attrs, slog.String("path_info", clip(p.facts.Path, 256)))
	return attrs
}

// isSensitive reports whether values of the field name are masked: name
// is one of the sensitive parameters (or the password field) under
// foldName, as encoding/json would match it to a struct field of that name.
func (e *Engine) isSensitive(name string) bool { return e.sensitive[foldName(name)] }

// foldName returns name folded as encoding/json folds the keys it matches
// to struct fields: two names are equal under strings.EqualFold (Unicode
// simple case folding) exactly when their foldName are equal. So
// "Paſſword" (long s), "PASSWORD" and "password" are one name, and so are
// "to\u212Aen" (Kelvin sign) and "token". Each rune becomes the smallest of
// its folding orbit, or the lower-case letter when that is an ASCII one;
// invalid UTF-8 becomes U+FFFD, as EqualFold reads it. Lower-case ASCII is
// returned as it is, without allocating.
func foldName(name string) string {
	i := 0
	for i < len(name) && name[i] < utf8.RuneSelf && (name[i] < 'A' || name[i] > 'Z') {
		i++
	}
	if i == len(name) {
		return name
	}
	b := make([]byte, i, len(name)+4)
	copy(b, name[:i])
	for _, r := range name[i:] {
		if r >= utf8.RuneSelf {
			r = foldRune(r)
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// foldRune returns the smallest rune that r folds to under
// unicode.SimpleFold, which walks a folding orbit in increasing order.
func foldRune(r rune) rune {
	for {
		next := unicode.SimpleFold(r)
		if next <= r {
			return next
		}
		r = next
	}
}

// Masked returns fields as "name=value" lines, sorted by name, with the
// sensitive values masked, each value capped at 256 bytes and the whole at
// 2 KiB: what attempt records keep of GET and POST data.
func (e *Engine) masked(fields url.Values) string {
	if len(fields) == 0 {
		return ""
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		for _, v := range fields[k] {
			if e.isSensitive(k) {
				v = maskValue
			}
			line := clip(k, 64) + "=" + clip(v, 256) + "\n"
			if b.Len()+len(line) > 2048 {
				return b.String()
			}
			b.WriteString(line)
		}
	}
	return b.String()
}

func (e *Engine) maskedQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, _ := url.ParseQuery(raw)
	if len(q) > 100 {
		return ""
	}
	return e.masked(q)
}
