package tlsca

import (
	"bufio"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// DefaultNames are the names the control node's own certificate is for:
// extra (the operator's --hostname values) in their order, then, sorted,
// the machine's host name, "localhost", the addresses of its interfaces
// that are up, 127.0.0.1 and ::1. Duplicates are dropped.
//
// Link-local addresses are left out (a client cannot reach them without a
// zone), and so are temporary IPv6 addresses on Linux (they change daily,
// and a name the CA was not made for needs a new CA). A DHCP address that
// changes has the same effect: give a stable --hostname instead.
func DefaultNames(extra []string) ([]string, error) {
	names, err := normalizeNames(extra)
	if err != nil {
		return nil, err
	}
	var rest []string
	if h, err := os.Hostname(); err == nil {
		if n, err := normalizeName(h); err == nil {
			rest = append(rest, n)
		}
	}
	rest = append(rest, "localhost", "127.0.0.1", "::1")
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing the network interfaces: %w", err)
	}
	temporary := temporaryIPv6()
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			var ip net.IP
			switch a := a.(type) {
			case *net.IPNet:
				ip = a.IP
			case *net.IPAddr:
				ip = a.IP
			}
			addr, ok := netip.AddrFromSlice(ip)
			if !ok {
				continue
			}
			addr = addr.Unmap()
			if addr.IsLinkLocalUnicast() || addr.IsMulticast() || addr.IsUnspecified() || temporary[addr] {
				continue
			}
			rest = append(rest, addr.String())
		}
	}
	slices.SortFunc(rest, compareNames)
	return normalizeNames(append(names, rest...))
}

// compareNames orders DNS names before IP addresses, DNS names
// alphabetically and addresses IPv4 first, numerically.
func compareNames(a, b string) int {
	ia, errA := netip.ParseAddr(a)
	ib, errB := netip.ParseAddr(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return ia.Compare(ib)
}

// temporaryIPv6 are the machine's temporary (privacy) IPv6 addresses,
// from Linux's /proc/net/if_inet6; none elsewhere.
func temporaryIPv6() map[netip.Addr]bool {
	const ifaFTemporary = 0x01
	f, err := os.Open("/proc/net/if_inet6")
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[netip.Addr]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address ifindex prefixlen scope flags name
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		raw, err := hex.DecodeString(fields[0])
		if err != nil || len(raw) != 16 {
			continue
		}
		flags, err := strconv.ParseUint(fields[4], 16, 32)
		if err != nil || flags&ifaFTemporary == 0 {
			continue
		}
		out[netip.AddrFrom16([16]byte(raw))] = true
	}
	return out
}

// normalizeNames checks and normalizes names (see normalizeName), dropping
// repeats but keeping the order.
func normalizeNames(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		norm, err := normalizeName(n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, norm) {
			out = append(out, norm)
		}
	}
	return out, nil
}

// normalizeName is a DNS name in lower case without a final dot, or an IP
// address in its canonical form (an IPv6 one may come in brackets).
func normalizeName(s string) (string, error) {
	n := strings.TrimSpace(s)
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(n, "["), "]")); ip != nil {
		return ip.String(), nil
	}
	n = strings.TrimSuffix(strings.ToLower(n), ".")
	if !validDNSName(n) {
		return "", fmt.Errorf("%q is neither a DNS name nor an IP address (no port, no wildcard)", s)
	}
	return n, nil
}

// validDNSName reports whether n is dot-separated labels of letters,
// digits, hyphens and underscores, each 1 to 63 long, 253 at most in all.
func validDNSName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for label := range strings.SplitSeq(n, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// splitNames splits normalized names into DNS names and IP addresses.
func splitNames(names []string) (dnsNames []string, ips []net.IP) {
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else {
			dnsNames = append(dnsNames, n)
		}
	}
	return dnsNames, ips
}

// certNames are the DNS names and IP addresses of cert, normalized.
func certNames(cert *x509.Certificate) []string {
	out := make([]string, 0, len(cert.DNSNames)+len(cert.IPAddresses))
	for _, n := range cert.DNSNames {
		out = append(out, strings.ToLower(n))
	}
	for _, ip := range cert.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// sortedNames is a sorted copy of names, for comparing sets.
func sortedNames(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
