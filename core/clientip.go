package core

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// headerKind is the forwarded header an IPResolver reads behind a trusted
// proxy.
type headerKind uint8

const (
	headerXFF headerKind = iota
	headerRealIP
	headerForwarded
)

// parseHeaderKind reads ClientIPHeader (case-insensitive; empty means
// X-Forwarded-For) and returns its kind and canonical spelling.
func parseHeaderKind(name string) (headerKind, string, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "x-forwarded-for":
		return headerXFF, "X-Forwarded-For", nil
	case "x-real-ip":
		return headerRealIP, "X-Real-IP", nil
	case "forwarded":
		return headerForwarded, "Forwarded", nil
	}
	return 0, "", fmt.Errorf("axes: client IP header %q: want X-Forwarded-For, X-Real-IP or Forwarded", name)
}

// IPResolver finds a request's client IP (docs/design.md G2): the socket peer,
// unless that peer is a trusted proxy; only then is the configured forwarded
// header read. It also groups IPv6 clients by prefix for lockout keys.
// An IPResolver is immutable and safe for concurrent use.
type IPResolver struct {
	trusted    []netip.Prefix
	kind       headerKind
	headerName string
	v6Prefix   int
}

// NewIPResolver builds a resolver. trustedProxies are CIDRs or bare
// addresses; header is "X-Forwarded-For" (the default when empty),
// "X-Real-IP" or "Forwarded", case-insensitive; ipv6Prefix groups IPv6
// clients (0 means 64; else 1..128). A bad argument is an error naming it.
func NewIPResolver(trustedProxies []string, header string, ipv6Prefix int) (*IPResolver, error) {
	r := &IPResolver{v6Prefix: ipv6Prefix}
	if r.v6Prefix == 0 {
		r.v6Prefix = 64
	}
	if r.v6Prefix < 1 || r.v6Prefix > 128 {
		return nil, fmt.Errorf("axes: IPv6 prefix %d: want 1..128", ipv6Prefix)
	}
	var err error
	if r.kind, r.headerName, err = parseHeaderKind(header); err != nil {
		return nil, err
	}
	for _, s := range trustedProxies {
		if strings.TrimSpace(s) == "" {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("axes: trusted proxy %q: %v", s, err)
		}
		r.trusted = append(r.trusted, p)
	}
	return r, nil
}

// Resolve returns the client's address for a request from remoteAddr (the
// socket peer: "host:port", "[v6]:port" or a bare host) with headers h
// (nil means none). The peer is the client unless it is a trusted proxy;
// headers are never read otherwise. Behind a trusted proxy:
//
//   - X-Forwarded-For (every value of the header, in order, when h also has
//     Values(string) []string, as http.Header does) is walked right to
//     left, skipping trusted proxies; the first untrusted address is the
//     client. An entry that is not an address ends the walk: the client is
//     then the nearest trusted hop, never anything left of the garbage. When
//     every entry is trusted, the left-most is the client.
//   - Forwarded (RFC 7239) is walked the same way over its for= parameters;
//     "unknown" and obfuscated identifiers count as garbage.
//   - X-Real-IP is one address; when it is missing or not an address the
//     proxy itself is the client.
//
// Entries may carry ports. IPv4-mapped IPv6 addresses are unwrapped and
// zones dropped. Resolve reports false only when remoteAddr cannot be
// parsed (the engine then refuses the request as an unknown client).
func (r *IPResolver) Resolve(remoteAddr string, h Header) (netip.Addr, bool) {
	peer, ok := parsePeer(remoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if r.peerIsClient(peer, h) {
		return peer, true
	}
	switch r.kind {
	case headerRealIP:
		if a, ok := parseHostPort(h.Get(r.headerName)); ok {
			return a, true
		}
		return peer, true
	case headerForwarded:
		return r.walk(peer, forwardedEntries(headerValues(h, r.headerName))), true
	default:
		return r.walkXFF(peer, h), true
	}
}

// valuesHeader is implemented by headers that hold several lines per name,
// such as http.Header.
type valuesHeader interface {
	Values(name string) []string
}

func headerValues(h Header, name string) []string {
	if vh, ok := h.(valuesHeader); ok {
		return vh.Values(name)
	}
	if v := h.Get(name); v != "" {
		return []string{v}
	}
	return nil
}

// walkXFF walks X-Forwarded-For right to left without allocating when the
// header is a single line.
func (r *IPResolver) walkXFF(peer netip.Addr, h Header) netip.Addr {
	var one [1]string
	values := one[:0]
	if vh, ok := h.(valuesHeader); ok {
		values = vh.Values(r.headerName)
	} else if v := h.Get(r.headerName); v != "" {
		values = append(values, v)
	}
	nearest := peer // the right-most trusted hop seen so far
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for {
			var entry string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				entry, v = v[j+1:], v[:j]
			} else {
				entry, v = v, ""
			}
			entry = strings.TrimSpace(entry)
			if entry != "" { // empty list elements are ignored (RFC 9110 §5.6.1)
				a, ok := parseHostPort(entry)
				if !ok {
					return nearest
				}
				if !r.isTrusted(a) {
					return a
				}
				nearest = a
			}
			if v == "" {
				break
			}
		}
	}
	return nearest
}

// walk is walkXFF over entries already split, left to right; an invalid
// address in entries means garbage.
func (r *IPResolver) walk(peer netip.Addr, entries []netip.Addr) netip.Addr {
	nearest := peer
	for i := len(entries) - 1; i >= 0; i-- {
		a := entries[i]
		if !a.IsValid() {
			return nearest
		}
		if !r.isTrusted(a) {
			return a
		}
		nearest = a
	}
	return nearest
}

func (r *IPResolver) isTrusted(a netip.Addr) bool {
	return ContainsIP(r.trusted, a)
}

// KeyForm returns a in the form lockout keys use: an IPv4 address as is, an
// IPv6 address as its prefix of the configured length ("2001:db8:1:2::/64"),
// or as is with prefix 128. The invalid address gives "".
func (r *IPResolver) KeyForm(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.WithZone("").Unmap()
	bits := 64
	if r != nil {
		bits = r.v6Prefix
	}
	if a.Is4() || bits >= 128 {
		return a.String()
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// ParseIPList reads IP whitelists and blacklists: addresses and CIDR ranges
// (blank entries are skipped). An error names the bad entry.
func ParseIPList(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if strings.TrimSpace(s) == "" {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("axes: IP list entry %q: %v", s, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ContainsIP reports whether a falls in any of ps. IPv4-mapped IPv6
// addresses match IPv4 ranges.
func ContainsIP(ps []netip.Prefix, a netip.Addr) bool {
	if len(ps) == 0 || !a.IsValid() {
		return false
	}
	a = a.WithZone("").Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parsePrefix reads "10.0.0.0/8", "2001:db8::/32" or a bare address (a
// prefix of one address). IPv4-mapped IPv6 forms become IPv4.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR range")
		}
		a = a.WithZone("").Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR range")
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("IPv4-mapped range shorter than /96")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// parsePeer reads the socket peer: "1.2.3.4:5", "[::1]:5", "1.2.3.4",
// "::1", "[::1]", with or without a zone.
func parsePeer(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if a, ok := parseHostPort(strings.TrimSpace(s)); ok {
		return a, true
	}
	// "host:port" with an odd port (net.SplitHostPort accepts any).
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.WithZone("").Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// parsePeer4 is the fast path of parsePeer for the common socket peer, an
// IPv4 "a.b.c.d:port" (or a bare "a.b.c.d"): it returns the address and
// the length of its text, which is then canonical (netip rejects leading
// zeros too, so whatever it accepts, parsePeer reads the same). Anything
// else reports false and goes the long way.
func parsePeer4(s string) (a netip.Addr, n int, ok bool) {
	var b [4]byte
	i := 0
	for f := range 4 {
		if f > 0 {
			if i >= len(s) || s[i] != '.' {
				return a, 0, false
			}
			i++
		}
		v, d := 0, 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if d > 0 && v == 0 {
				return a, 0, false // a leading zero
			}
			v = v*10 + int(s[i]-'0')
			i++
			if d++; v > 255 {
				return a, 0, false
			}
		}
		if d == 0 {
			return a, 0, false
		}
		b[f] = byte(v)
	}
	n = i
	if i < len(s) {
		if s[i] != ':' || len(s)-i-1 < 1 || len(s)-i-1 > 5 {
			return a, 0, false
		}
		port := 0
		for _, c := range []byte(s[i+1:]) {
			if c < '0' || c > '9' {
				return a, 0, false
			}
			port = port*10 + int(c-'0')
		}
		if port > 65535 {
			return a, 0, false
		}
	}
	return netip.AddrFrom4(b), n, true
}

// peerIsClient reports whether the peer a is the client itself: no proxy
// that Resolve would look behind.
func (r *IPResolver) peerIsClient(a netip.Addr, h Header) bool {
	return r == nil || h == nil || !r.isTrusted(a)
}

// parseHostPort reads one address of a forwarded header: "1.2.3.4",
// "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:80".
func parseHostPort(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.WithZone("").Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// forwardedEntries reads the for= node of every element of the Forwarded
// header lines, left to right. An element without a usable address (no
// for=, "unknown", an obfuscated "_name", garbage, a broken quoted string)
// gives the invalid Addr, which ends a walk.
func forwardedEntries(values []string) []netip.Addr {
	var out []netip.Addr
	for _, v := range values {
		for _, elem := range splitQuoted(v, ',') {
			if strings.TrimSpace(elem) == "" {
				continue
			}
			out = append(out, forwardedFor(elem))
		}
	}
	return out
}

// forwardedFor reads the for= parameter of one forwarded-element.
func forwardedFor(elem string) netip.Addr {
	var found netip.Addr
	seen := false
	for _, pair := range splitQuoted(elem, ';') {
		name, value, ok := strings.Cut(pair, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "for") {
			continue
		}
		if seen { // two for= in one element: ambiguous
			return netip.Addr{}
		}
		seen = true
		value = strings.TrimSpace(value)
		if len(value) > 0 && value[0] == '"' {
			var ok bool
			if value, ok = unquote(value); !ok {
				return netip.Addr{}
			}
		}
		if a, ok := parseHostPort(value); ok {
			found = a
		}
	}
	return found
}

// splitQuoted splits s on sep outside quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote reads an RFC 9110 quoted-string that must be all of s.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	s = s[1 : len(s)-1]
	if !strings.ContainsAny(s, `\"`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return "", false
		case '\\':
			if i+1 == len(s) {
				return "", false
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
