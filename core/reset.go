package core

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrBadFilter is the error (wrapped, test it with errors.Is) of a reset
// whose filter selects nothing specific: it names neither an IP address nor
// a username, its username is empty once canonicalised (only spaces,
// control and format characters such as U+200B), or its IP address does
// not parse. An empty filter never means everything: ResetAll does that.
var ErrBadFilter = errors.New("axes: bad reset filter")

// CanonicalFilter returns f as Reset uses it, or an error wrapping
// ErrBadFilter: the username canonicalised as the lockout keys spell it
// (CanonicalUsername, or only trimmed when Config.UsernameFunc is set), the
// IP address parsed, unmapped and re-spelt, and IPGroup filled from it (a
// given IPGroup is replaced). A field that is given (not "") must keep a
// value: a username of only U+200B or spaces is refused, never dropped, so
// that no filter quietly widens into one that selects more. Callers that
// reset several filters check them all with it first.
func (e *Engine) CanonicalFilter(f Filter) (Filter, error) {
	if f.IP == "" && f.Username == "" {
		if f.IPGroup != "" {
			return Filter{}, fmt.Errorf("%w: IPGroup %q without an IP address (the engine fills IPGroup from IP)", ErrBadFilter, f.IPGroup)
		}
		return Filter{}, fmt.Errorf("%w: no IP address and no username given (an empty filter never means everything: ResetAll resets everything)", ErrBadFilter)
	}
	out := Filter{Either: f.Either}
	if f.Username != "" {
		out.Username = e.filterUsername(f.Username)
		if out.Username == "" {
			return Filter{}, fmt.Errorf("%w: username %q is empty once spaces, control and format characters are removed", ErrBadFilter, f.Username)
		}
	}
	if f.IP != "" {
		a, err := netip.ParseAddr(strings.TrimSpace(f.IP))
		if err != nil {
			return Filter{}, fmt.Errorf("%w: %q is not an IP address", ErrBadFilter, f.IP)
		}
		a = a.Unmap()
		out.IP = a.String()
		if a.Is6() {
			out.IPGroup = e.resolver.KeyForm(a)
		}
	}
	return out, nil
}

// filterUsername is a filter's username as the lockout keys spell it: the
// keys hold UsernameFunc's value as it returned it, else the canonical
// form.
func (e *Engine) filterUsername(u string) string {
	if e.cfg.UsernameFunc != nil {
		return strings.TrimSpace(u)
	}
	return CanonicalUsername(u)
}

// ResetAll removes every counter and attempt record (django-axes' reset()
// without arguments, axes reset) and returns how many attempt records it
// removed. It is the only way to reset everything: Reset refuses an empty
// filter.
func (e *Engine) ResetAll(ctx context.Context) (int, error) {
	return e.reset(ctx, Filter{})
}
