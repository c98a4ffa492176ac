package auth

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Gate is a listener's front door: which address a request comes from, and
// whether that address failed authentication so often that it must wait.
// Every listener (api, playback, ingest, mqtt) has its own, sharing one
// Limiter, so guessing on one does not reset on another.
type Gate struct {
	listener  string
	lim       *Limiter
	ips       *ClientIP
	failures  *prometheus.CounterVec
	throttled prometheus.Counter
	now       func() time.Time
}

// NewGate returns the gate of listener, counting into failures
// (listener, reason) and throttled (listener).
func NewGate(listener string, lim *Limiter, ips *ClientIP, failures, throttled *prometheus.CounterVec) *Gate {
	return &Gate{listener: listener, lim: lim, ips: ips, failures: failures,
		throttled: throttled.WithLabelValues(listener), now: time.Now}
}

// ClientAddr is the address a request comes from (X-Forwarded-For is
// believed only from trusted proxies).
func (g *Gate) ClientAddr(remoteAddr string, xff []string) netip.Addr {
	return g.ips.From(remoteAddr, xff)
}

// ClientAddrOf is ClientAddr for a peer given as a connection's
// RemoteAddr (ClientIP.FromAddr).
func (g *Gate) ClientAddrOf(peer net.Addr, xff []string) netip.Addr {
	return g.ips.FromAddr(peer, xff)
}

// Blocked reports whether addr must wait, and for how long; a blocked
// request is counted.
func (g *Gate) Blocked(addr netip.Addr) (time.Duration, bool) {
	d, blocked := g.lim.Blocked(addr, g.now())
	if blocked {
		g.throttled.Inc()
	}
	return d, blocked
}

// ReasonStale is the failure reason a stale credential (ErrStale) is
// counted under, whatever the listener calls its failures.
const ReasonStale = "revoked_or_expired"

// Failed records a credential from addr refused with err, counted under
// reason. It counts toward blocking addr unless err is ErrStale: a
// credential this node issued that was revoked or expired is no guess,
// and its holder may go on presenting it for long (a revoked edge keeps
// retrying until restored), which would otherwise block everyone at its
// address, the operator who would restore it included.
func (g *Gate) Failed(addr netip.Addr, reason string, err error) {
	if errors.Is(err, ErrStale) {
		g.failures.WithLabelValues(g.listener, ReasonStale).Inc()
		return
	}
	g.lim.Fail(addr, g.now())
	g.failures.WithLabelValues(g.listener, reason).Inc()
}

// Bearer takes the token out of an Authorization header value: "" for no
// header, an ErrBadHeader error for anything but "Bearer TOKEN".
func Bearer(header string) (string, error) {
	if header == "" {
		return "", nil
	}
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: want \"Bearer TOKEN\"", ErrBadHeader)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > 512 || strings.ContainsAny(tok, " \t") {
		return "", fmt.Errorf("%w: the token after \"Bearer \" is empty, too long or has spaces", ErrBadHeader)
	}
	return tok, nil
}
