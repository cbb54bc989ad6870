package core_test

import (
	"errors"
	"net/http"
	"net/netip"
	"testing"
	"unicode/utf8"

	"github.com/goaxes/axes/core"
)

func FuzzResolve(f *testing.F) {
	seeds := []struct{ remote, value string }{
		{"127.0.0.1:1234", ""},
		{"10.0.0.1:80", "1.2.3.4"},
		{"10.0.0.1:80", "6.6.6.6, 1.2.3.4, 10.0.0.2"},
		{"[2001:db8::1]:443", "[2001:db8::5]:80, garbage"},
		{"[fe80::1%eth0]:1", "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=unknown"},
		{"[::ffff:10.0.0.1]:1", "::ffff:1.2.3.4"},
		{"10.0.0.1", `for="_hidden", for="1.2.3.4`},
		{"", "1.2.3.4"},
		{"[::1", ",,,"},
		{"1.2.3.4:99999", `for=1.2.3.4;for=5.6.7.8`},
		{"10.0.0.1:1", `for="\"[::1]\""`},
	}
	for _, s := range seeds {
		f.Add(s.remote, s.value)
	}
	untrusted, err := core.NewIPResolver(nil, "", 0)
	if err != nil {
		f.Fatal(err)
	}
	var trusted []*core.IPResolver
	for _, h := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		for _, proxies := range [][]string{{"0.0.0.0/0", "::/0"}, {"10.0.0.0/8", "2001:db8::/32"}} {
			r, err := core.NewIPResolver(proxies, h, 48)
			if err != nil {
				f.Fatal(err)
			}
			trusted = append(trusted, r)
		}
	}
	f.Fuzz(func(t *testing.T, remote, value string) {
		h := http.Header{"X-Forwarded-For": {value}, "X-Real-Ip": {value}, "Forwarded": {value, value}}
		peer, peerOK := untrusted.Resolve(remote, nil)
		got, ok := untrusted.Resolve(remote, h)
		if ok != peerOK || got != peer {
			t.Fatalf("untrusted resolver read headers: got %v %v, want the peer %v %v", got, ok, peer, peerOK)
		}
		if ap, err := netip.ParseAddrPort(remote); err == nil && (!ok || got != ap.Addr().WithZone("").Unmap()) {
			t.Fatalf("peer %q: got %v %v, want %v", remote, got, ok, ap.Addr())
		}
		if ok && (!got.IsValid() || got.Is4In6() || got.Zone() != "") {
			t.Fatalf("peer %q resolved to %v", remote, got)
		}
		_ = untrusted.KeyForm(got)
		for _, r := range trusted {
			got, ok := r.Resolve(remote, h)
			if ok != peerOK {
				t.Fatalf("trusted resolver: ok %v, want %v", ok, peerOK)
			}
			if ok && (!got.IsValid() || got.Is4In6() || got.Zone() != "") {
				t.Fatalf("resolved to %v", got)
			}
			_ = r.KeyForm(got)
		}
	})
}

func FuzzKeyInjective(f *testing.F) {
	f.Add(uint8(1), "1.2.3.4", "alice", "ua", uint8(1), "1.2.3.4", "bob", "ua")
	f.Add(uint8(2), "", "1.2.3.4", "", uint8(1), "1.2.3.4", "", "")
	f.Add(uint8(3), "a|u1:b", "", "", uint8(3), "a", "b", "")
	f.Add(uint8(7), "x", "y|a1:z", "", uint8(7), "x", "y", "z")
	f.Add(uint8(6), "", "u", "a", uint8(6), "ignored", "u", "a")
	f.Add(uint8(0), "", "", "", uint8(0), "x", "y", "z")
	f.Fuzz(func(t *testing.T, c1 uint8, ip1, u1, ua1 string, c2 uint8, ip2, u2, ua2 string) {
		p1, p2 := core.Combination(c1&7), core.Combination(c2&7)
		k1, k2 := core.NewKey(p1, ip1, u1, ua1), core.NewKey(p2, ip2, u2, ua2)
		same := p1 == p2 &&
			(!p1.Has(core.ParamIPAddress) || ip1 == ip2) &&
			(!p1.Has(core.ParamUsername) || u1 == u2) &&
			(!p1.Has(core.ParamUserAgent) || ua1 == ua2)
		if (k1.ID == k2.ID) != same {
			t.Fatalf("keys %q and %q: equal %v, want %v", k1.ID, k2.ID, k1.ID == k2.ID, same)
		}
	})
}

var fuzzContentTypes = []string{
	"application/x-www-form-urlencoded",
	"application/json",
	"application/ld+json; charset=utf-8",
	"multipart/form-data; boundary=XYZ",
	"text/plain",
}

func FuzzParseFields(f *testing.F) {
	f.Add(uint8(0), "", []byte("username=alice&password=x"))
	f.Add(uint8(1), "", []byte(`{"username":"alice","n":1,"b":true,"o":{"x":[1,2,{"y":3}]}}`))
	f.Add(uint8(2), "", []byte(`[1,2,3]`))
	f.Add(uint8(3), "", []byte("--XYZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--XYZ--\r\n"))
	f.Add(uint8(3), "", []byte("--XYZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nzz\r\n--XYZ"))
	f.Add(uint8(5), "application/json; ;", []byte(`{"a":"\ud800"}`))
	f.Add(uint8(5), "multipart/form-data; boundary=\"\"", []byte("--\r\n"))
	f.Add(uint8(0), "", []byte("%zz=1&a=%ff&;=;&=="))
	f.Fuzz(func(t *testing.T, ct uint8, custom string, body []byte) {
		contentType := custom
		if int(ct) < len(fuzzContentTypes) {
			contentType = fuzzContentTypes[ct]
		}
		for _, complete := range []bool{true, false} {
			fields, err := core.ParseFields(contentType, body, complete)
			if !complete && (fields != nil || !errors.Is(err, core.ErrUnreadable)) {
				t.Fatalf("incomplete body gave %v, %v", fields, err)
			}
			if err != nil && !errors.Is(err, core.ErrUnreadable) {
				t.Fatalf("error %v does not wrap ErrUnreadable", err)
			}
			n := 0
			for _, vs := range fields {
				n += len(vs)
			}
			if n > core.MaxFields {
				t.Fatalf("%d fields, want <= %d", n, core.MaxFields)
			}
		}
	})
}

func FuzzCanonicalUsername(f *testing.F) {
	for _, s := range []string{
		"alice", "ALICE", " alice ", "ａｌｉｃｅ", "Straße", "\u212Aelvin", "ali\x00ce", "\xff\xfe",
		"e\x00\u0301", "\u00a8alice", "\u0345", "ΐ", "ǅ", "ﬃ", "\u1e9e", "İstanbul", "\u0130\u0307",
		"\u3000\u00a0", "\u0390\u0301", " Alice Smith ", "BOB@EXAMPLE.COM", "a\x7f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := core.CanonicalUsername(s)
		if !utf8.ValidString(c) {
			t.Fatalf("CanonicalUsername(%q) = %q: invalid UTF-8", s, c)
		}
		if len(c) > core.MaxUsernameBytes {
			t.Fatalf("CanonicalUsername(%q) is %d bytes, want <= %d", s, len(c), core.MaxUsernameBytes)
		}
		if cc := core.CanonicalUsername(c); cc != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, c, cc)
		}
		// A zero-width space is removed, and forces the general path: the
		// ASCII shortcuts must agree with it.
		if z := core.CanonicalUsername("\u200b" + s); z != c {
			t.Fatalf("shortcut and general path disagree on %q: %q vs %q", s, c, z)
		}
	})
}

func FuzzConfigFromEnv(f *testing.F) {
	f.Add("3", "30m", "3:1m,10:1h", "username,ip_address+user_agent", "10.0.0.0/8", "X-Forwarded-For", "64", "429", "true")
	f.Add("abc", "-1", "0:0", "email", "nope", "X-Client", "0", "99", "maybe")
	f.Add("1", "0.5", "3:1", "", "", "", "128", "599", "")
	f.Add("9999999999999999999", "1e300", ":", ",", ",", "forwarded", "-5", "1e3", "ON")
	f.Fuzz(func(t *testing.T, limit, cooloff, tiers, params, proxies, header, prefix, code, flag string) {
		cfg, err := core.ConfigFromEnv(env(map[string]string{
			"AXES_FAILURE_LIMIT":      limit,
			"AXES_COOLOFF_TIME":       cooloff,
			"AXES_COOLOFF_TIERS":      tiers,
			"AXES_LOCKOUT_PARAMETERS": params,
			"AXES_TRUSTED_PROXIES":    proxies,
			"AXES_IP_WHITELIST":       proxies,
			"AXES_CLIENT_IP_HEADER":   header,
			"AXES_IPV6_PREFIX":        prefix,
			"AXES_HTTP_RESPONSE_CODE": code,
			"AXES_USE_USER_AGENT":     flag,
			"AXES_ENABLED":            flag,
		}))
		if err != nil {
			return
		}
		if cfg.FailureLimit < 1 {
			t.Fatalf("FailureLimit %d", cfg.FailureLimit)
		}
		if cfg.CoolOff < 0 {
			t.Fatalf("CoolOff %s", cfg.CoolOff)
		}
		for i, tier := range cfg.CoolOffTiers {
			if tier.Failures < 1 || tier.CoolOff <= 0 || (i > 0 && tier.Failures <= cfg.CoolOffTiers[i-1].Failures) {
				t.Fatalf("tiers %v", cfg.CoolOffTiers)
			}
		}
		for _, c := range cfg.LockoutParameters {
			if c == 0 || c&^(core.ParamIPAddress|core.ParamUsername|core.ParamUserAgent) != 0 {
				t.Fatalf("lockout parameters %v", cfg.LockoutParameters)
			}
		}
		if cfg.HTTPResponseCode != 0 && (cfg.HTTPResponseCode < 100 || cfg.HTTPResponseCode > 599) {
			t.Fatalf("HTTPResponseCode %d", cfg.HTTPResponseCode)
		}
		if _, err := core.NewIPResolver(cfg.TrustedProxies, cfg.ClientIPHeader, cfg.IPv6Prefix); err != nil {
			t.Fatalf("accepted settings the resolver refuses: %v", err)
		}
		if _, err := core.ParseIPList(cfg.IPWhitelist); err != nil {
			t.Fatalf("accepted a whitelist ParseIPList refuses: %v", err)
		}
	})
}
