package axesfiber

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

// addrString spells every address as its String method does.
func TestAddrStringIsString(t *testing.T) {
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 40000},
		&net.TCPAddr{IP: net.IP{192, 0, 2, 99}, Port: 1},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443},
		&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 8},
		&net.TCPAddr{IP: net.ParseIP("::"), Port: 0},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 80, Zone: "eth0"},
		&net.TCPAddr{Port: 80},
		&net.TCPAddr{IP: net.IP{1, 2, 3}, Port: 80},
		&net.UnixAddr{Name: "/tmp/s", Net: "unix"},
	} {
		assert.Equal(t, a.String(), addrString(a))
	}
}
