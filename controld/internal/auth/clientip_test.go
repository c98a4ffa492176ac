package auth

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

func TestParseTrusted(t *testing.T) {
	got, err := ParseTrusted([]string{
		"10.0.0.0/8", " 192.168.1.1 ", "2001:db8::/32", "::1", "172.16.5.4/12", "::ffff:100.64.0.0/106", "::ffff:198.51.100.7",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.1/32", "2001:db8::/32", "::1/128", "172.16.0.0/12", "100.64.0.0/10", "198.51.100.7/32"}
	if len(got) != len(want) {
		t.Fatalf("ParseTrusted = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	if got, err := ParseTrusted(nil); err != nil || len(got) != 0 {
		t.Errorf("ParseTrusted(nil) = %v, %v", got, err)
	}

	for _, bad := range []string{"", "nope", "10.0.0.0/33", "10.0.0/8", "2001:db8::/129", "fe80::1%eth0", "1.2.3.4:80", "10.0.0.0/8/8"} {
		_, err := ParseTrusted([]string{"10.0.0.0/8", bad})
		if err == nil {
			t.Errorf("ParseTrusted(%q) succeeded", bad)
			continue
		}
		if !strings.Contains(err.Error(), `"`+bad+`"`) || !strings.Contains(err.Error(), "trusted proxy") {
			t.Errorf("ParseTrusted(%q): error %q does not name the entry", bad, err)
		}
	}
}

func mustTrusted(t *testing.T, cidrs ...string) *ClientIP {
	t.Helper()
	p, err := ParseTrusted(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return NewClientIP(p)
}

func TestClientIPFrom(t *testing.T) {
	c := mustTrusted(t, "10.0.0.0/8", "2001:db8:ffff::/48")
	for _, tc := range []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		// The peer is the client unless it is trusted.
		{"direct", "198.51.100.7:4321", nil, "198.51.100.7"},
		{"spoof from an untrusted peer", "198.51.100.7:4321", []string{"203.0.113.9"}, "198.51.100.7"},
		{"spoof of a trusted address", "198.51.100.7:4321", []string{"10.0.0.1"}, "198.51.100.7"},
		{"trusted peer without the header", "10.0.0.1:80", nil, "10.0.0.1"},
		{"trusted peer with an empty list", "10.0.0.1:80", []string{}, "10.0.0.1"},

		// Behind trusted proxies, the rightmost untrusted entry.
		{"one proxy", "10.0.0.1:80", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client prepends a lie", "10.0.0.1:80", []string{"192.0.2.66, 203.0.113.9"}, "203.0.113.9"},
		{"chain of proxies", "10.0.0.1:80", []string{"203.0.113.9, 10.1.1.1, 10.2.2.2"}, "203.0.113.9"},
		{"chain over several headers", "10.0.0.1:80", []string{"192.0.2.66", "203.0.113.9, 10.1.1.1", "10.2.2.2"}, "203.0.113.9"},
		{"lie in its own header", "10.0.0.1:80", []string{"192.0.2.66", "203.0.113.9"}, "203.0.113.9"},
		{"every entry trusted", "10.0.0.1:80", []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
		{"no spaces", "10.0.0.1:80", []string{"192.0.2.66,203.0.113.9,10.1.1.1"}, "203.0.113.9"},

		// Garbage stops the walk at the last trusted hop.
		{"garbage at the right", "10.0.0.1:80", []string{"203.0.113.9, garbage"}, "10.0.0.1"},
		{"garbage behind a proxy", "10.0.0.1:80", []string{"203.0.113.9, nonsense, 10.1.1.1"}, "10.1.1.1"},
		{"garbage left of the client", "10.0.0.1:80", []string{"nonsense, 203.0.113.9"}, "203.0.113.9"},
		{"empty entry", "10.0.0.1:80", []string{"203.0.113.9, , 10.1.1.1"}, "10.1.1.1"},
		{"trailing comma", "10.0.0.1:80", []string{"203.0.113.9,"}, "10.0.0.1"},
		{"empty header", "10.0.0.1:80", []string{""}, "10.0.0.1"},
		{"unknown", "10.0.0.1:80", []string{"unknown"}, "10.0.0.1"},
		{"hostname", "10.0.0.1:80", []string{"evil.example"}, "10.0.0.1"},
		{"a prefix", "10.0.0.1:80", []string{"203.0.113.0/24"}, "10.0.0.1"},
		{"empty header between", "10.0.0.1:80", []string{"203.0.113.9", "", "10.1.1.1"}, "10.1.1.1"},

		// Ports in entries are dropped.
		{"entry with a port", "10.0.0.1:80", []string{"203.0.113.9:5555"}, "203.0.113.9"},
		{"IPv6 entry with a port", "10.0.0.1:80", []string{"[2001:db8::9]:5555"}, "2001:db8::9"},
		{"bracketed IPv6 entry", "10.0.0.1:80", []string{"[2001:db8::9]"}, "2001:db8::9"},
		{"bracketed IPv4 entry", "10.0.0.1:80", []string{"[203.0.113.9]"}, "10.0.0.1"},

		// IPv6, mapped IPv4, zones.
		{"IPv6 peer", "[2001:db8::1]:443", []string{"203.0.113.9"}, "2001:db8::1"},
		{"trusted IPv6 peer", "[2001:db8:ffff::1]:443", []string{"2001:db8::9, 2001:db8:ffff:1::2"}, "2001:db8::9"},
		{"mapped trusted peer", "[::ffff:10.0.0.1]:80", []string{"203.0.113.9"}, "203.0.113.9"},
		{"mapped untrusted peer", "[::ffff:198.51.100.7]:80", nil, "198.51.100.7"},
		{"mapped entry", "10.0.0.1:80", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"mapped trusted entry", "10.0.0.1:80", []string{"203.0.113.9, ::ffff:10.1.1.1"}, "203.0.113.9"},
		{"zoned peer", "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"zoned entry", "10.0.0.1:80", []string{"fe80::9%eth0"}, "fe80::9"},

		// Peer addresses in other shapes.
		{"peer without a port", "198.51.100.7", nil, "198.51.100.7"},
		{"IPv6 peer without a port", "2001:db8::1", nil, "2001:db8::1"},
		{"unix socket", "@", []string{"203.0.113.9"}, "invalid IP"},
		{"empty peer", "", nil, "invalid IP"},
		{"hostname peer", "localhost:80", nil, "invalid IP"},
	} {
		got := c.From(tc.remote, tc.xff)
		if got.String() != tc.want {
			t.Errorf("%s: From(%q, %q) = %s, want %s", tc.name, tc.remote, tc.xff, got, tc.want)
		}
		if got.Is4In6() || got.Zone() != "" {
			t.Errorf("%s: From returned %s, mapped or zoned", tc.name, got)
		}
		// The same peer as a connection's address: the same answer.
		if ap, err := netip.ParseAddrPort(tc.remote); err == nil {
			ta := net.TCPAddrFromAddrPort(ap)
			sixteen := &net.TCPAddr{IP: ta.IP.To16(), Port: ta.Port, Zone: ta.Zone} // as net.ParseIP spells IPv4
			for _, peer := range []*net.TCPAddr{ta, sixteen} {
				if fa := c.FromAddr(peer, tc.xff); fa != got {
					t.Errorf("%s: FromAddr(%#v, %q) = %s, From says %s", tc.name, peer, tc.xff, fa, got)
				}
			}
		}
	}
}

func TestClientIPFromAddrOfOtherPeers(t *testing.T) {
	c := mustTrusted(t, "10.0.0.0/8")
	xff := []string{"203.0.113.9"}
	var typedNil *net.TCPAddr
	for _, tc := range []struct {
		name string
		peer net.Addr
		want string
	}{
		{"unix socket", &net.UnixAddr{Name: "@", Net: "unix"}, "invalid IP"},
		{"UDP address, by its string", &net.UDPAddr{IP: net.ParseIP("10.0.0.1"), Port: 80}, "203.0.113.9"},
		{"no address", nil, "invalid IP"},
		{"nil TCP address", typedNil, "invalid IP"},
		{"TCP address without an IP", &net.TCPAddr{Port: 80}, "invalid IP"},
		{"TCP address with a bad IP", &net.TCPAddr{IP: net.IP{1, 2, 3}, Port: 80}, "invalid IP"},
		{"trusted TCP peer", &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 80}, "203.0.113.9"},
		{"untrusted TCP peer", &net.TCPAddr{IP: net.ParseIP("198.51.100.7"), Port: 80}, "198.51.100.7"},
	} {
		if got := c.FromAddr(tc.peer, xff); got.String() != tc.want {
			t.Errorf("%s: FromAddr = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestClientIPTrustsNobodyByDefault(t *testing.T) {
	for _, c := range []*ClientIP{NewClientIP(nil), NewClientIP([]netip.Prefix{{}})} {
		if got := c.From("127.0.0.1:80", []string{"203.0.113.9"}); got.String() != "127.0.0.1" {
			t.Errorf("From = %s, want the peer", got)
		}
	}
}

func TestNewClientIPUnmapsAndMasks(t *testing.T) {
	c := NewClientIP([]netip.Prefix{
		netip.MustParsePrefix("::ffff:10.0.0.0/104"),
		netip.PrefixFrom(netip.MustParseAddr("192.168.7.7"), 16),
	})
	for _, tc := range []struct{ remote, want string }{
		{"10.2.3.4:80", "203.0.113.9"},
		{"[::ffff:10.2.3.4]:80", "203.0.113.9"},
		{"192.168.200.1:80", "203.0.113.9"},
		{"11.0.0.1:80", "11.0.0.1"},
	} {
		if got := c.From(tc.remote, []string{"203.0.113.9"}); got.String() != tc.want {
			t.Errorf("From(%s) = %s, want %s", tc.remote, got, tc.want)
		}
	}
}

func TestClientIPConcurrent(t *testing.T) {
	c := mustTrusted(t, "10.0.0.0/8")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if got := c.From("10.0.0.1:80", []string{"203.0.113.9, 10.1.1.1"}); got.String() != "203.0.113.9" {
					t.Errorf("From = %s", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
