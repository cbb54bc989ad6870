package core

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The memory store keeps only key IDs and decodes them for Reset.
func TestParseKeyIDRoundTrip(t *testing.T) {
	for _, k := range []Key{
		NewKey(ParamIPAddress, "10.0.0.1", "", ""),
		NewKey(ParamUsername, "", "a|u3:b", ""),
		NewKey(ParamIPAddress|ParamUsername|ParamUserAgent, "2001:db8::/64", "bob", "curl/8 |i2:x"),
		NewKey(ParamUserAgent, "", "", ""),
	} {
		got, ok := parseKeyID(k.ID)
		if !ok || got != k {
			t.Errorf("parseKeyID(%q) = %+v, %v; want %+v", k.ID, got, ok, k)
		}
	}
	if _, ok := parseKeyID("x"); ok {
		t.Error("parseKeyID accepted a foreign ID")
	}
}

// ipString reuses the given spelling only when it is the canonical one.
func TestIPStringReuse(t *testing.T) {
	for _, c := range []struct{ addr, given string }{
		{"10.0.0.1", "10.0.0.1"}, {"2001:db8::1", "2001:DB8::1"}, {"1.2.3.4", "::ffff:1.2.3.4"}, {"::1", ""},
	} {
		a := netip.MustParseAddr(c.addr)
		if got := ipString(a, c.given); got != a.String() {
			t.Errorf("ipString(%s, %q) = %q", c.addr, c.given, got)
		}
	}
}

func BenchmarkStatusMemory(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	r := &Request{RemoteAddr: "10.0.0.1:40000", Header: http.Header{}, Method: "POST", Path: "/login"}
	e.ReportFailure(ctx, r)
	b.ReportAllocs()
	for b.Loop() {
		if e.Status(ctx, r).Outcome != Allowed {
			b.Fatal("not allowed")
		}
	}
}

// Keys built inline (memory store) equal those NewKey builds, and are
// storable whatever the request's bytes.
func TestKeysInlineEqualNewKey(t *testing.T) {
	storable := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	for _, params := range [][]Combination{
		{ParamIPAddress},
		{ParamIPAddress, ParamIPAddress | ParamUsername, ParamUsername | ParamUserAgent},
		{ParamUsername, ParamIPAddress | ParamUserAgent},
	} {
		cfg := DefaultConfig()
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.LockoutParameters = params
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, addr := range []string{"10.1.2.3:5", "[2001:db8:1:2::7]:80", "[::ffff:10.0.0.1]:1"} {
			for _, user := range []string{"", "Alice", `B\ob` + "\xff"} {
				for _, ua := range []string{"curl/8", `curl\8` + "\xff\x00\uFFFD"} {
					r := &Request{RemoteAddr: addr, Header: http.Header{"User-Agent": {ua}}, Method: "POST", Username: user}
					a := e.Begin(context.Background(), r)
					want := e.keysFor(&a.p, nil, nil)
					if len(want) != len(a.p.keys) {
						t.Fatalf("%v %s %q %q: %d keys, want %d", params, addr, user, ua, len(a.p.keys), len(want))
					}
					for i := range want {
						if a.p.keys[i] != want[i] {
							t.Errorf("%v %s %q %q: key %d = %+v, want %+v", params, addr, user, ua, i, a.p.keys[i], want[i])
						}
						k := want[i]
						if !storable(k.ID) || !storable(k.UserAgent) || !storable(k.Username) {
							t.Errorf("%v %s %q %q: key %d = %+v: not store-safe", params, addr, user, ua, i, k)
						}
					}
					a.Abandon(context.Background())
				}
			}
		}
	}
}

// parsePeer4, the fast path, reads exactly what parsePeer reads, and the
// text it measures is the address's canonical spelling.
func FuzzParsePeer4(f *testing.F) {
	for _, s := range []string{"10.0.0.1:80", "10.0.0.1", "1.2.3.4:", "01.2.3.4:1", "256.1.1.1:2",
		"1.2.3.4:65536", "1.2.3.4:00080", "1.2.3:4", "1.2.3.4.5:6", "[::1]:80", "1.2.3.4:8x", " 1.2.3.4:5", "0.0.0.0:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, n, ok := parsePeer4(s)
		if !ok {
			return
		}
		want, wok := parsePeer(s)
		if !wok || want != a {
			t.Fatalf("parsePeer4(%q) = %v; parsePeer = %v, %v", s, a, want, wok)
		}
		if s[:n] != a.String() {
			t.Fatalf("parsePeer4(%q) text %q, canonical %q", s, s[:n], a)
		}
	})
}

// Where the flat JSON scanner (the fast path) reads a body, it reads what
// encoding/json's tokenizer (the reference) reads.
func FuzzScanFlatJSON(f *testing.F) {
	for _, s := range []string{`{"username":"alice","password":"x"}`, ` { "a" : 1.5e3 , "b":true,"c":null,"a":"2"} trailing`,
		`{}`, `{"a":01}`, `{"a":"\u00e9"}`, "{\"a\":\"\xff\"}", `{"a":-0.5E-2,"b":false}`, `{"a":{"b":1}}`, `{"a" 1}`, `{"a":1,}`, `{"é":"ü"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := scanFlatJSON(body)
		if !ok {
			return
		}
		want, err := decodeJSONFields(body)
		if err != nil || !reflect.DeepEqual(fast, want) {
			t.Fatalf("%q: fast %v, reference %v (%v)", body, fast, want, err)
		}
	})
}

// Attempt records whose IDs share a hash are chained; finding and dropping
// one leaves the others.
func TestAttemptHashChain(t *testing.T) {
	var r memRecords
	r.init()
	add := func(user string) *attemptEntry {
		e := &attemptEntry{rec: AttemptRecord{Username: user}, hash: 7, next: r.attempts[7]}
		r.attempts[7] = e
		r.nAttempt++
		r.place(e)
		return e
	}
	a, b, c := add("a"), add("b"), add("c")
	for _, e := range []*attemptEntry{a, b, c} {
		if got := r.findAttempt(7, e.rec.Username, "", ""); got != e {
			t.Fatalf("find %s: got %v", e.rec.Username, got)
		}
	}
	r.dropAttempt(b) // the middle of the chain
	if r.findAttempt(7, "b", "", "") != nil || r.findAttempt(7, "a", "", "") != a || r.findAttempt(7, "c", "", "") != c {
		t.Fatal("dropping b lost another record")
	}
	r.dropAttempt(c) // the head
	r.dropAttempt(a)
	if len(r.attempts) != 0 || r.nAttempt != 0 || r.oldest != nil || r.newest != nil {
		t.Fatalf("left %d hashes, %d records", len(r.attempts), r.nAttempt)
	}
}
