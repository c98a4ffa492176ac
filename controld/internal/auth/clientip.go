package auth

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// ClientIP tells which address a request comes from: the peer's, unless the
// peer is a trusted reverse proxy, in which case X-Forwarded-For says. It is
// safe for concurrent use.
type ClientIP struct {
	trusted []netip.Prefix
}

// NewClientIP returns a ClientIP that believes the X-Forwarded-For of peers
// in trusted (nil: of nobody); invalid prefixes are skipped. IPv4-mapped
// IPv6 prefixes are taken as the IPv4 prefixes they map, as addresses are
// compared unmapped.
func NewClientIP(trusted []netip.Prefix) *ClientIP {
	c := &ClientIP{trusted: make([]netip.Prefix, 0, len(trusted))}
	for _, p := range trusted {
		if p.IsValid() {
			c.trusted = append(c.trusted, unmapPrefix(p.Masked()))
		}
	}
	return c
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into
// the IPv4 prefix it stands for (10.0.0.0/8); others are returned as they
// are.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// ParseTrusted parses the trusted proxies of a configuration: CIDR prefixes
// ("10.0.0.0/8", "2001:db8::/32") or plain addresses, taken as /32 or /128.
// Surrounding spaces are ignored; host bits set in a prefix are cleared. The
// error names the first entry that is neither.
func ParseTrusted(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, raw := range cidrs {
		s := strings.TrimSpace(raw)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not a CIDR prefix: %w", raw, err)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an IP address or CIDR prefix: %w", raw, err)
			}
			if a.Zone() != "" {
				return nil, fmt.Errorf("trusted proxy %q: an address with a zone cannot be trusted; leave the zone out", raw)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, unmapPrefix(p.Masked()))
	}
	return out, nil
}

// isTrusted reports whether a is one of the trusted proxies.
func (c *ClientIP) isTrusted(a netip.Addr) bool {
	return slices.ContainsFunc(c.trusted, func(p netip.Prefix) bool { return p.Contains(a) })
}

// From returns the address a request comes from, given the peer's address
// (http.Request.RemoteAddr: "host:port", or a bare address) and the values
// of its X-Forwarded-For headers, in the order they came.
//
// When the peer is not a trusted proxy, it is the client, and whatever
// X-Forwarded-For it sent is ignored: anyone can write the header. When it
// is, the X-Forwarded-For entries (all values, comma-separated, joined in
// order) are walked from the right, as each proxy appends the address it
// got the request from: the first entry that is not a trusted proxy is the
// client. If every entry is trusted, the leftmost is returned. An entry that
// is not an address (an empty one, "unknown", garbage) stops the walk: what
// lies left of it cannot be told apart from what the client made up, so the
// last trusted hop, the peer or an entry right of the bad one, is returned.
// An entry may carry a port ("1.2.3.4:80", "[2001:db8::1]:80"), which is
// dropped.
//
// Addresses come back unmapped (::ffff:1.2.3.4 is 1.2.3.4) and without a
// zone. A peer address that cannot be parsed (a Unix socket's "@") gives
// the zero Addr, which is not valid.
func (c *ClientIP) From(remoteAddr string, xff []string) netip.Addr {
	peer, ok := parseHop(remoteAddr)
	if !ok {
		return netip.Addr{}
	}
	return c.fromPeer(peer, xff)
}

// FromAddr is From for a peer given as a connection's RemoteAddr. A
// *net.TCPAddr is read as it is instead of being formatted to be parsed
// again: the playback listener asks on every request.
func (c *ClientIP) FromAddr(peer net.Addr, xff []string) netip.Addr {
	ta, ok := peer.(*net.TCPAddr)
	switch {
	case peer == nil:
		return netip.Addr{}
	case !ok:
		return c.From(peer.String(), xff)
	case ta == nil:
		return netip.Addr{}
	}
	a, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Addr{}
	}
	return c.fromPeer(a.Unmap(), xff)
}

// fromPeer is From once the peer's address is parsed (unmapped, no zone).
func (c *ClientIP) fromPeer(peer netip.Addr, xff []string) netip.Addr {
	if !c.isTrusted(peer) {
		return peer
	}
	last := peer // the last trusted hop
	for i := len(xff) - 1; i >= 0; i-- {
		rest := xff[i]
		for {
			hop := rest
			cut := strings.LastIndexByte(rest, ',')
			if cut >= 0 {
				hop, rest = rest[cut+1:], rest[:cut]
			}
			a, ok := parseHop(strings.TrimSpace(hop))
			if !ok {
				return last
			}
			if !c.isTrusted(a) {
				return a
			}
			last = a
			if cut < 0 {
				break
			}
		}
	}
	return last
}

// parseHop parses an address as a peer or an X-Forwarded-For entry gives
// it: "1.2.3.4", "2001:db8::1", "1.2.3.4:80", "[2001:db8::1]:80" or
// "[2001:db8::1]". The result is unmapped and has no zone.
func parseHop(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		switch {
		case perr == nil:
			a = ap.Addr()
		case len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']':
			if a, err = netip.ParseAddr(s[1 : len(s)-1]); err != nil || !a.Is6() {
				return netip.Addr{}, false
			}
		default:
			return netip.Addr{}, false
		}
	}
	return a.Unmap().WithZone(""), true
}
