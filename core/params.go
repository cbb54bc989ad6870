package core

import (
	"fmt"
	"strings"
)

// Param is one name that lockout parameters are made of: the client's IP
// address, the username, or the user agent. Params combine as a bit set.
type Param uint8

// The three lockout parameter names of django-axes.
const (
	ParamIPAddress Param = 1 << iota // "ip_address"
	ParamUsername                    // "username"
	ParamUserAgent                   // "user_agent"
)

// Combination is one alternative of the lockout parameters: a set of names
// counted together (AND). A Combination with one name is that name alone.
type Combination = Param

// Has reports whether every name of q is in p.
func (p Param) Has(q Param) bool { return p&q == q && q != 0 }

// String spells p as in AXES_LOCKOUT_PARAMETERS: names joined by "+".
func (p Param) String() string {
	var parts []string
	if p.Has(ParamUsername) {
		parts = append(parts, "username")
	}
	if p.Has(ParamIPAddress) {
		parts = append(parts, "ip_address")
	}
	if p.Has(ParamUserAgent) {
		parts = append(parts, "user_agent")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// ParseParam reads one name: "ip_address", "username" or "user_agent".
func ParseParam(name string) (Param, error) {
	switch strings.TrimSpace(name) {
	case "ip_address":
		return ParamIPAddress, nil
	case "username":
		return ParamUsername, nil
	case "user_agent":
		return ParamUserAgent, nil
	}
	return 0, fmt.Errorf("axes: unknown lockout parameter %q (want ip_address, username or user_agent)", name)
}

// ParseLockoutParameters reads the AXES_LOCKOUT_PARAMETERS form: alternatives
// split by ",", the names of a combination joined by "+", for example
// "username,ip_address+user_agent".
func ParseLockoutParameters(s string) ([]Combination, error) {
	var out []Combination
	for _, alt := range strings.Split(s, ",") {
		alt = strings.TrimSpace(alt)
		if alt == "" {
			return nil, fmt.Errorf("axes: empty alternative in lockout parameters %q", s)
		}
		var c Combination
		for _, name := range strings.Split(alt, "+") {
			p, err := ParseParam(name)
			if err != nil {
				return nil, err
			}
			if c&p != 0 {
				return nil, fmt.Errorf("axes: %q names %s twice", alt, p)
			}
			c |= p
		}
		out = append(out, c)
	}
	return out, nil
}

// FormatLockoutParameters is the inverse of ParseLockoutParameters.
func FormatLockoutParameters(cs []Combination) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ",")
}
