package core_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// getOnly is a Header without Values: only the first line of a name.
type getOnly map[string]string

func (h getOnly) Get(name string) string { return h[http.CanonicalHeaderKey(name)] }

// countingHeader fails the test when read.
type countingHeader struct{ reads *int }

func (h countingHeader) Get(string) string { *h.reads++; return "6.6.6.6" }

func TestNewIPResolver(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		header  string
		prefix  int
		wantErr string
	}{
		{name: "defaults", proxies: nil, header: "", prefix: 0},
		{name: "cidrs and addresses", proxies: []string{"10.0.0.0/8", " 192.168.1.1 ", "fd00::/8", "::1", ""}, header: "x-forwarded-for"},
		{name: "x-real-ip any case", header: "X-REAL-IP"},
		{name: "forwarded", header: "Forwarded"},
		{name: "prefix 128", prefix: 128},
		{name: "prefix 1", prefix: 1},
		{name: "bad proxy", proxies: []string{"10.0.0.0/8", "nope"}, wantErr: `axes: trusted proxy "nope"`},
		{name: "bad cidr", proxies: []string{"10.0.0.0/33"}, wantErr: `axes: trusted proxy "10.0.0.0/33"`},
		{name: "bad header", header: "X-Client-IP", wantErr: `axes: client IP header "X-Client-IP"`},
		{name: "prefix too long", prefix: 129, wantErr: "axes: IPv6 prefix 129"},
		{name: "prefix negative", prefix: -1, wantErr: "axes: IPv6 prefix -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := core.NewIPResolver(tt.proxies, tt.header, tt.prefix)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, r)
		})
	}
}

func TestResolve(t *testing.T) {
	trusted := []string{"10.0.0.0/8", "2001:db8:ffff::/48"}
	tests := []struct {
		name    string
		proxies []string
		header  string
		remote  string
		h       core.Header
		want    string
		wantOK  bool
	}{
		{name: "v4 peer", remote: "127.0.0.1:1234", want: "127.0.0.1", wantOK: true},
		{name: "v6 peer", remote: "[2001:db8::1]:443", want: "2001:db8::1", wantOK: true},
		{name: "v6 peer with zone", remote: "[fe80::1%eth0]:443", want: "fe80::1", wantOK: true},
		{name: "bare v4", remote: "192.0.2.7", want: "192.0.2.7", wantOK: true},
		{name: "bare v6", remote: "2001:db8::7", want: "2001:db8::7", wantOK: true},
		{name: "bracketed v6 without port", remote: "[2001:db8::7]", want: "2001:db8::7", wantOK: true},
		{name: "mapped v4 unwrapped", remote: "[::ffff:192.0.2.1]:80", want: "192.0.2.1", wantOK: true},
		{name: "empty peer", remote: "", wantOK: false},
		{name: "garbage peer", remote: "pipe", wantOK: false},
		{name: "hostname peer", remote: "localhost:80", wantOK: false},
		{
			name: "untrusted peer ignores XFF", proxies: trusted, remote: "192.0.2.1:5",
			h: http.Header{"X-Forwarded-For": {"1.2.3.4"}}, want: "192.0.2.1", wantOK: true,
		},
		{
			name: "no proxies ignores XFF", remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"1.2.3.4"}}, want: "10.0.0.1", wantOK: true,
		},
		{
			name: "trusted peer, one hop", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"1.2.3.4"}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "spoofed left entry ignored", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"6.6.6.6, 1.2.3.4, 10.0.0.2"}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "ports in entries", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"[2001:db8::5]:80, 10.1.1.1:3000"}}, want: "2001:db8::5", wantOK: true,
		},
		{
			name: "several header lines", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"6.6.6.6, 1.2.3.4", "10.0.0.3"}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "Get-only header sees the first line", proxies: trusted, remote: "10.0.0.1:5",
			h: getOnly{"X-Forwarded-For": "1.2.3.4, 10.0.0.3"}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "garbage ends the walk at the nearest trusted hop", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"1.2.3.4, evil, 10.0.0.9"}}, want: "10.0.0.9", wantOK: true,
		},
		{
			name: "garbage right after the peer gives the peer", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"1.2.3.4, unknown"}}, want: "10.0.0.1", wantOK: true,
		},
		{
			name: "all trusted gives the left-most", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"10.9.9.9, 10.0.0.2"}}, want: "10.9.9.9", wantOK: true,
		},
		{
			name: "empty elements skipped", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{"X-Forwarded-For": {"1.2.3.4, , 10.0.0.2,"}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "missing XFF gives the peer", proxies: trusted, remote: "10.0.0.1:5",
			h: http.Header{}, want: "10.0.0.1", wantOK: true,
		},
		{
			name: "nil header gives the peer", proxies: trusted, remote: "10.0.0.1:5",
			want: "10.0.0.1", wantOK: true,
		},
		{
			name: "trusted v6 proxy, mapped client", proxies: trusted, remote: "[2001:db8:ffff::1]:5",
			h: http.Header{"X-Forwarded-For": {"::ffff:1.2.3.4"}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "X-Real-IP", proxies: trusted, header: "X-Real-IP", remote: "10.0.0.1:5",
			h: http.Header{"X-Real-Ip": {"1.2.3.4"}, "X-Forwarded-For": {"6.6.6.6"}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "X-Real-IP garbage gives the peer", proxies: trusted, header: "X-Real-IP", remote: "10.0.0.1:5",
			h: http.Header{"X-Real-Ip": {"1.2.3.4, 5.6.7.8"}}, want: "10.0.0.1", wantOK: true,
		},
		{
			name: "X-Real-IP from an untrusted peer ignored", proxies: trusted, header: "X-Real-IP", remote: "192.0.2.9:5",
			h: http.Header{"X-Real-Ip": {"1.2.3.4"}}, want: "192.0.2.9", wantOK: true,
		},
		{
			name: "Forwarded", proxies: trusted, header: "Forwarded", remote: "10.0.0.1:5",
			h: http.Header{"Forwarded": {`for=6.6.6.6, for=1.2.3.4;proto=https, for=10.0.0.2`}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "Forwarded quoted v6 with port", proxies: trusted, header: "Forwarded", remote: "10.0.0.1:5",
			h: http.Header{"Forwarded": {`For="[2001:db8:cafe::17]:4711";by=10.0.0.1`}}, want: "2001:db8:cafe::17", wantOK: true,
		},
		{
			name: "Forwarded quoted comma does not split", proxies: trusted, header: "Forwarded", remote: "10.0.0.1:5",
			h: http.Header{"Forwarded": {`for=1.2.3.4;ext="a,for=10.0.0.7"`}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "Forwarded unknown is garbage", proxies: trusted, header: "Forwarded", remote: "10.0.0.1:5",
			h: http.Header{"Forwarded": {`for=1.2.3.4, for=unknown, for=10.0.0.3`}}, want: "10.0.0.3", wantOK: true,
		},
		{
			name: "Forwarded obfuscated is garbage", proxies: trusted, header: "Forwarded", remote: "10.0.0.1:5",
			h: http.Header{"Forwarded": {`for=1.2.3.4, for="_hidden"`}}, want: "10.0.0.1", wantOK: true,
		},
		{
			name: "Forwarded element without for is garbage", proxies: trusted, header: "Forwarded", remote: "10.0.0.1:5",
			h: http.Header{"Forwarded": {`for=1.2.3.4, proto=http`}}, want: "10.0.0.1", wantOK: true,
		},
		{
			name: "Forwarded several lines", proxies: trusted, header: "Forwarded", remote: "10.0.0.1:5",
			h: http.Header{"Forwarded": {`for=6.6.6.6, for=1.2.3.4`, `for=10.0.0.4`}}, want: "1.2.3.4", wantOK: true,
		},
		{
			name: "Forwarded broken quote is garbage", proxies: trusted, header: "Forwarded", remote: "10.0.0.1:5",
			h: http.Header{"Forwarded": {`for="1.2.3.4`}}, want: "10.0.0.1", wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := core.NewIPResolver(tt.proxies, tt.header, 0)
			require.NoError(t, err)
			got, ok := r.Resolve(tt.remote, tt.h)
			require.Equal(t, tt.wantOK, ok, "ok: got %v, want %v", ok, tt.wantOK)
			if !tt.wantOK {
				assert.False(t, got.IsValid())
				return
			}
			assert.Equal(t, tt.want, got.String())
		})
	}
}

func TestResolveNeverReadsHeadersOfUntrustedPeers(t *testing.T) {
	r, err := core.NewIPResolver([]string{"10.0.0.0/8"}, "", 0)
	require.NoError(t, err)
	reads := 0
	got, ok := r.Resolve("192.0.2.1:80", countingHeader{&reads})
	require.True(t, ok)
	assert.Equal(t, "192.0.2.1", got.String())
	assert.Zero(t, reads, "headers read for an untrusted peer")
}

func TestKeyForm(t *testing.T) {
	tests := []struct {
		name   string
		prefix int
		addr   string
		want   string
	}{
		{name: "v4", addr: "192.0.2.1", want: "192.0.2.1"},
		{name: "v6 default /64", addr: "2001:db8:1:2:3:4:5:6", want: "2001:db8:1:2::/64"},
		{name: "v6 same /64", addr: "2001:db8:1:2:ffff::1", want: "2001:db8:1:2::/64"},
		{name: "v6 /48", prefix: 48, addr: "2001:db8:1:2::1", want: "2001:db8:1::/48"},
		{name: "v6 /128 plain", prefix: 128, addr: "2001:db8::1", want: "2001:db8::1"},
		{name: "mapped v4 as v4", addr: "::ffff:192.0.2.1", want: "192.0.2.1"},
		{name: "v4 unaffected by prefix", prefix: 8, addr: "192.0.2.1", want: "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := core.NewIPResolver(nil, "", tt.prefix)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.KeyForm(netip.MustParseAddr(tt.addr)))
		})
	}
	t.Run("invalid", func(t *testing.T) {
		r, err := core.NewIPResolver(nil, "", 0)
		require.NoError(t, err)
		assert.Equal(t, "", r.KeyForm(netip.Addr{}))
	})
}

func TestParseIPListAndContainsIP(t *testing.T) {
	ps, err := core.ParseIPList([]string{"192.0.2.0/24", " 198.51.100.7 ", "2001:db8::/32", "", "::ffff:203.0.113.0/120"})
	require.NoError(t, err)
	tests := []struct {
		name string
		addr string
		want bool
	}{
		{name: "in v4 range", addr: "192.0.2.200", want: true},
		{name: "exact v4", addr: "198.51.100.7", want: true},
		{name: "next to exact v4", addr: "198.51.100.8", want: false},
		{name: "in v6 range", addr: "2001:db8:5::1", want: true},
		{name: "outside v6 range", addr: "2001:db9::1", want: false},
		{name: "mapped v4 in v4 range", addr: "::ffff:192.0.2.5", want: true},
		{name: "v4 in mapped range", addr: "203.0.113.9", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, core.ContainsIP(ps, netip.MustParseAddr(tt.addr)))
		})
	}
	t.Run("bad entry named", func(t *testing.T) {
		_, err := core.ParseIPList([]string{"192.0.2.1", "300.1.1.1"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"300.1.1.1"`)
	})
	t.Run("empty list contains nothing", func(t *testing.T) {
		assert.False(t, core.ContainsIP(nil, netip.MustParseAddr("192.0.2.1")))
		assert.False(t, core.ContainsIP(ps, netip.Addr{}))
	})
}

func TestResolveDoesNotAllocate(t *testing.T) {
	r, err := core.NewIPResolver(nil, "", 0)
	require.NoError(t, err)
	h := http.Header{"X-Forwarded-For": {"1.2.3.4"}}
	allocs := testing.AllocsPerRun(100, func() { _, _ = r.Resolve("127.0.0.1:1234", h) })
	assert.Zero(t, allocs)

	tr, err := core.NewIPResolver([]string{"10.0.0.0/8"}, "", 0)
	require.NoError(t, err)
	h = http.Header{"X-Forwarded-For": {"6.6.6.6, 1.2.3.4, 10.0.0.2"}}
	allocs = testing.AllocsPerRun(100, func() { _, _ = tr.Resolve("10.0.0.1:1234", h) })
	assert.Zero(t, allocs, "XFF walk behind a trusted proxy")
}

func BenchmarkResolve(b *testing.B) {
	direct, _ := core.NewIPResolver(nil, "", 0)
	proxied, _ := core.NewIPResolver([]string{"10.0.0.0/8"}, "", 0)
	xff := http.Header{"X-Forwarded-For": {"6.6.6.6, 1.2.3.4, 10.0.0.2"}}
	b.Run("direct-v4", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = direct.Resolve("127.0.0.1:1234", nil)
			}
		})
	})
	b.Run("direct-v6", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = direct.Resolve("[2001:db8::1]:1234", nil)
			}
		})
	})
	b.Run("trusted-xff", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = proxied.Resolve("10.0.0.1:1234", xff)
			}
		})
	})
	b.Run("keyform-v6", func(b *testing.B) {
		a := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = direct.KeyForm(a)
			}
		})
	})
}
