package core

import (
	"strconv"
	"strings"
)

// Key names one lockout counter: one alternative of the lockout parameters
// filled with the request's values. Its ID is an injective encoding: typed,
// length-prefixed fields, so that no username can collide with an IP or with
// another combination (docs/design.md G3).
type Key struct {
	// Params is the combination this key counts.
	Params Combination
	// IP is the client's address in key form (IPv6 grouped by prefix, such as
	// "2001:db8::/64"); empty unless Params has ParamIPAddress.
	IP string
	// Username is canonical; empty unless Params has ParamUsername.
	Username string
	// UserAgent is empty unless Params has ParamUserAgent.
	UserAgent string
	// ID is the encoded key that stores index by.
	ID string
}

// NewKey builds the key of combination c for the given values, taking only
// the values c names. It takes them as they are: the Engine passes them
// through StoreEscape first, so that every key a store sees is valid UTF-8
// without NUL; a key built from raw request bytes must be too.
func NewKey(c Combination, ip, username, userAgent string) Key {
	k := Key{Params: c}
	n := 3
	if c.Has(ParamIPAddress) {
		k.IP = ip
		n += len(ip) + 8
	}
	if c.Has(ParamUsername) {
		k.Username = username
		n += len(username) + 8
	}
	if c.Has(ParamUserAgent) {
		k.UserAgent = userAgent
		n += len(userAgent) + 8
	}
	b := make([]byte, 0, n)
	b = append(b, "v1"...)
	if c.Has(ParamIPAddress) {
		b = appendField(b, 'i', ip)
	}
	if c.Has(ParamUsername) {
		b = appendField(b, 'u', username)
	}
	if c.Has(ParamUserAgent) {
		b = appendField(b, 'a', userAgent)
	}
	k.ID = string(b)
	return k
}

// appendField writes "|<tag><len>:<value>".
func appendField(b []byte, tag byte, v string) []byte {
	b = append(b, '|', tag)
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	return append(b, v...)
}

// Matches reports whether the key falls under f: the zero filter matches
// every key; otherwise IP and Username are compared with the key's fields
// (both must match, or either when f.Either is set). A key that lacks a
// field the filter names does not match on that field.
func (k Key) Matches(f Filter) bool {
	ipSet, userSet := f.IPKey() != "", f.Username != ""
	ipOK := ipSet && k.Params.Has(ParamIPAddress) && k.IP == f.IPKey()
	userOK := userSet && k.Params.Has(ParamUsername) && k.Username == f.Username
	return f.combine(ipSet, userSet, ipOK, userOK)
}

// parseKeyID decodes an ID that NewKey built (the memory store keeps only
// IDs). It reports false for an ID in another format.
func parseKeyID(id string) (Key, bool) {
	k := Key{ID: id}
	s, ok := strings.CutPrefix(id, "v1")
	if !ok {
		return k, false
	}
	for s != "" {
		if len(s) < 4 || s[0] != '|' {
			return k, false
		}
		tag := s[1]
		n, rest, ok := strings.Cut(s[2:], ":")
		if !ok {
			return k, false
		}
		l, err := strconv.Atoi(n)
		if err != nil || l < 0 || l > len(rest) {
			return k, false
		}
		v := rest[:l]
		s = rest[l:]
		switch tag {
		case 'i':
			k.Params |= ParamIPAddress
			k.IP = v
		case 'u':
			k.Params |= ParamUsername
			k.Username = v
		case 'a':
			k.Params |= ParamUserAgent
			k.UserAgent = v
		default:
			return k, false
		}
	}
	return k, true
}
