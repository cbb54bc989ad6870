package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/goaxes/axes/core"
)

// resetCmd is "reset" (everything) and the older "reset IP...".
func (c *cli) resetCmd(args []string) error {
	pos, err := parse(c.flags(c.cmd), args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return c.resetAll()
	}
	for _, a := range pos {
		if _, err := netip.ParseAddr(a); err != nil {
			return usagef("%q is not an IP address (axes reset resets everything, axes reset IP... those addresses; for a username use axes reset-username %s)", a, a)
		}
	}
	return c.resetIPsParsed(pos)
}

func (c *cli) resetIPs(args []string) error {
	pos, err := parse(c.flags(c.cmd), args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want at least one IP address: axes reset-ip IP...")
	}
	return c.resetIPsParsed(pos)
}

func (c *cli) resetIPsParsed(ips []string) error {
	fs := make([]core.Filter, len(ips))
	for i, a := range ips {
		if err := checkIP(a); err != nil {
			return err
		}
		fs[i] = core.Filter{IP: a}
	}
	return c.reset(fs)
}

func checkIP(a string) error {
	if _, err := netip.ParseAddr(strings.TrimSpace(a)); err != nil {
		return usagef("%q is not an IP address", a)
	}
	return nil
}

func (c *cli) resetUsernames(args []string) error {
	pos, err := parse(c.flags(c.cmd), args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want at least one username: axes %s NAME...", c.cmd)
	}
	fs := make([]core.Filter, len(pos))
	for i, u := range pos {
		if err := checkUsername(u); err != nil {
			return err
		}
		fs[i] = core.Filter{Username: u}
	}
	return c.reset(fs)
}

func (c *cli) resetIPUsername(args []string) error {
	pos, err := parse(c.flags(c.cmd), args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("want an IP address and a username: axes reset-ip-username IP NAME")
	}
	if err := checkIP(pos[0]); err != nil {
		return err
	}
	if err := checkUsername(pos[1]); err != nil {
		return err
	}
	return c.reset([]core.Filter{{IP: pos[0], Username: pos[1]}})
}

// checkUsername refuses a username that is empty once canonicalised (as
// the engine does, for the settings of the environment have no
// UsernameFunc): "\u200b" names nobody, and resetting nobody must never
// turn into resetting everybody.
func checkUsername(u string) error {
	if core.CanonicalUsername(u) != "" {
		return nil
	}
	if strings.TrimSpace(u) == "" {
		return usagef("empty username")
	}
	return usagef("username %q is empty once spaces, control and format characters are removed: nothing to reset (axes reset resets everything)", u)
}

// reset runs Engine.Reset for every filter, all of them checked first, and
// prints the sum as django-axes does.
func (c *cli) reset(filters []core.Filter) error {
	ctx := context.Background()
	s, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, f := range filters {
		if _, err := s.engine.CanonicalFilter(f); err != nil {
			if errors.Is(err, core.ErrBadFilter) {
				return usageError{trimAxes(err.Error())}
			}
			return err
		}
	}
	total := 0
	for _, f := range filters {
		n, err := s.engine.Reset(ctx, f)
		if err != nil {
			return s.storeErr(err)
		}
		total += n
	}
	c.removed(total)
	return nil
}

// resetAll is axes reset without arguments: everything, the one command
// that asks for it.
func (c *cli) resetAll() error {
	ctx := context.Background()
	s, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.engine.ResetAll(ctx)
	if err != nil {
		return s.storeErr(err)
	}
	c.removed(n)
	return nil
}

// removed prints how many attempt records a reset removed, as django-axes
// does.
func (c *cli) removed(total int) {
	if total == 0 {
		fmt.Fprintln(c.stdout, "No attempts found.")
	} else {
		fmt.Fprintf(c.stdout, "%d attempts removed.\n", total)
	}
}
