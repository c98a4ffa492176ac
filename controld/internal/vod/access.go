package vod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/grant"
)

// Access is what playback and joining need of access control
// (auth.Authority). A nil Access is auth off: everything plays.
type Access interface {
	VerifyGrant(g string, scope grant.Scope) error
	Authenticate(token string) (auth.Principal, error)
	IsPublic(sourceID string) bool
	Join(ctx context.Context, joinSecret string) (edge, credential string, err error)
}

// Gate slows down addresses that fail authentication (auth.Gate).
type Gate interface {
	ClientAddrOf(peer net.Addr, xff []string) netip.Addr
	Blocked(addr netip.Addr) (time.Duration, bool)
	Failed(addr netip.Addr, reason string, err error)
}

var argGrant = []byte(api.GrantParam)

// clientAddr is where a request comes from, X-Forwarded-For believed only
// from trusted proxies.
func (s *Server) clientAddr(ctx *fasthttp.RequestCtx, g Gate) netip.Addr {
	var xff []string
	ctx.Request.Header.VisitAll(func(k, v []byte) {
		if string(k) == "X-Forwarded-For" {
			xff = append(xff, string(v))
		}
	})
	return g.ClientAddrOf(ctx.RemoteAddr(), xff)
}

// mayWatch decides whether the request may play scope (a source's live
// window or a recording), before anything is read for it. It answers a
// refusal itself (403, or 429 for an address that keeps failing) and
// returns false then. On success it returns the grant the request came
// with, for the URIs of a playlist served with it ("" when none is needed).
func (s *Server) mayWatch(ctx *fasthttp.RequestCtx, scope grant.Scope, public bool) (string, bool) {
	if s.access == nil || public {
		return "", true
	}
	addr := s.clientAddr(ctx, s.playGate)
	if retry, blocked := s.playGate.Blocked(addr); blocked {
		tooManyFast(ctx, addr, retry)
		return "", false
	}
	g := ctx.QueryArgs().PeekBytes(argGrant)
	if len(g) > 0 {
		gs := string(g)
		if err := s.access.VerifyGrant(gs, scope); err != nil {
			s.playGate.Failed(addr, "grant", err)
			envelope.FailFast(ctx, http.StatusForbidden, err.Error(), grantAdvice(scope))
			return "", false
		}
		return gs, true
	}
	if h := ctx.Request.Header.Peek("Authorization"); len(h) > 0 {
		tok, err := auth.Bearer(string(h))
		if err == nil {
			var p auth.Principal
			if p, err = s.access.Authenticate(tok); err == nil {
				err = auth.Allow(p, auth.PermWatch)
			}
		}
		if err != nil {
			s.playGate.Failed(addr, "token", err)
			envelope.FailFast(ctx, http.StatusForbidden, err.Error(), grantAdvice(scope))
			return "", false
		}
		return "", true
	}
	envelope.FailFast(ctx, http.StatusForbidden, "playback needs a grant: a signed URL (?"+api.GrantParam+"=…)", grantAdvice(scope))
	return "", false
}

func grantAdvice(scope grant.Scope) string {
	if scope.Kind == 'r' {
		return "get a signed URL with `lmx rec url ID`"
	}
	return "get a signed URL with `lmx source url SOURCE`, or open the source to anyone with `lmx source set SOURCE --public`"
}

func tooManyFast(ctx *fasthttp.RequestCtx, addr netip.Addr, retry time.Duration) {
	secs := retryAfterSeconds(retry)
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(secs))
	envelope.FailFast(ctx, http.StatusTooManyRequests, fmt.Sprintf("too many failed authentications from %s", addr), fmt.Sprintf("retry in %d s", secs))
}

// retryAfterSeconds is retry as a Retry-After value: whole seconds, at
// least 1 (0 would tell the client to come back at once).
func retryAfterSeconds(retry time.Duration) int {
	return max(int(retry.Round(time.Second)/time.Second), 1)
}

// withGrant is playlist pl with "grant=g" added to every URI in it (media
// segments, and URI="…" attributes such as EXT-X-MAP's), so a player that
// opened the playlist with a grant carries it to every request it makes.
func withGrant(pl []byte, g string) []byte {
	if g == "" {
		return pl
	}
	return appendWithGrant(make([]byte, 0, grantedLen(pl, g)), pl, g)
}

// appendWithGrant appends withGrant(pl, g) to out; g is not "".
func appendWithGrant(out, pl []byte, g string) []byte {
	// A live playlist has no URI attributes: its tag lines are copied
	// without looking into each.
	tagURIs := bytes.Contains(pl, attrURI)
	for len(pl) > 0 {
		line, rest, nl := pl, []byte(nil), false
		if i := bytes.IndexByte(pl, '\n'); i >= 0 {
			line, rest, nl = pl[:i], pl[i+1:], true
		}
		body := bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case len(body) == 0:
			out = append(out, line...)
		case body[0] != '#':
			out = appendURI(out, body, g)
			out = append(out, line[len(body):]...)
		case tagURIs:
			out = appendTagURIs(out, line, g)
		default:
			out = append(out, line...)
		}
		if nl {
			out = append(out, '\n')
		}
		pl = rest
	}
	return out
}

// grantedLen bounds the length of withGrant(pl, g), for its one
// allocation: a live playlist has a tag line or two per URI, so counting
// every line, as URIs, would reserve about three times what is written.
// Every grant added goes to a line that is not a tag (at most the lines
// not starting with '#') or into a URI="…" attribute (at most the
// occurrences of URI=").
func grantedLen(pl []byte, g string) int {
	if len(pl) == 0 {
		return 0
	}
	lines := bytes.Count(pl, newline) + 1
	tags := bytes.Count(pl, newlineTag)
	if pl[0] == '#' {
		tags++
	}
	uris := lines - tags + bytes.Count(pl, attrURI)
	return len(pl) + uris*(len("?"+api.GrantParam+"=")+len(g))
}

var (
	newline    = []byte("\n")
	newlineTag = []byte("\n#")
)

func appendURI(out, uri []byte, g string) []byte {
	out = append(out, uri...)
	if bytes.IndexByte(uri, '?') >= 0 {
		out = append(out, '&')
	} else {
		out = append(out, '?')
	}
	out = append(out, api.GrantParam...)
	out = append(out, '=')
	return append(out, g...)
}

var attrURI = []byte(`URI="`)

// appendTagURIs copies a tag line, adding the grant inside each URI="…".
func appendTagURIs(out, line []byte, g string) []byte {
	for {
		i := bytes.Index(line, attrURI)
		if i < 0 {
			return append(out, line...)
		}
		i += len(attrURI)
		j := bytes.IndexByte(line[i:], '"')
		if j < 0 {
			return append(out, line...)
		}
		out = append(out, line[:i]...)
		out = appendURI(out, line[i:i+j], g)
		line = line[i+j:]
	}
}

// join exchanges an edge's join secret for its credential.
func (s *Server) join(ctx *fasthttp.RequestCtx) {
	if s.access == nil {
		envelope.FailFast(ctx, http.StatusNotFound, "access control is off on this control node (--auth none): edges need no join", "start the edge with --controld HOST instead of --join")
		return
	}
	addr := s.clientAddr(ctx, s.ingestGate)
	if retry, blocked := s.ingestGate.Blocked(addr); blocked {
		tooManyFast(ctx, addr, retry)
		return
	}
	tok, err := auth.Bearer(string(ctx.Request.Header.Peek("Authorization")))
	if err != nil || tok == "" {
		s.ingestGate.Failed(addr, "malformed", err)
		envelope.FailFast(ctx, http.StatusBadRequest, "join needs Authorization: Bearer JOIN-SECRET", "start the edge with lmx edged --join JOIN-TOKEN")
		return
	}
	edge, cred, err := s.access.Join(s.base, tok)
	if err != nil {
		if errors.Is(err, auth.ErrBadCredential) {
			s.ingestGate.Failed(addr, "join", err)
			envelope.FailFast(ctx, http.StatusUnauthorized, err.Error(), "")
			return
		}
		s.internalError(ctx, err)
		return
	}
	s.logger.Info("edge joined", "edge", edge, "from", addr.String())
	envelope.WriteFast(ctx, http.StatusOK, broker.JoinReply{Edge: edge, Credential: cred})
}
