package embedded

import (
	"bytes"
	"net"
	"net/netip"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lmx-video/lmx/broker"
)

// EdgeAuthenticator says which edge a credential belongs to.
type EdgeAuthenticator interface {
	AuthenticateEdge(credential string) (edge string, err error)
}

// Gate slows down addresses that fail authentication. Failed is given the
// refusal's error, so that the gate can tell a guess from a credential
// that was genuine but is revoked (auth.Gate).
type Gate interface {
	Blocked(addr netip.Addr) (time.Duration, bool)
	Failed(addr netip.Addr, reason string, err error)
}

// ClientIDPrefix starts every edge's client id: an edge connects as
// ClientIDPrefix+NAME, and only with NAME's credential, so no client can
// take another edge's session over.
const ClientIDPrefix = "lmx-edge-"

// authHook gives every client the identity of its credential and keeps it
// to that edge's own topics. With no authenticator it allows everything
// (--auth none).
type authHook struct {
	mqtt.HookBase
	edges EdgeAuthenticator
	gate  Gate
	srv   *mqtt.Server // to close a session revoked while it was set up
}

// ID names the hook.
func (h *authHook) ID() string { return "lmx-auth" }

// Provides tells mochi which hook methods are implemented.
func (h *authHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnSessionEstablished, mqtt.OnACLCheck, mqtt.OnWill}, []byte{b})
}

// OnConnectAuthenticate accepts a client whose password is an edge's
// credential, whose username (if any) is that edge's name, whose client id
// is ClientIDPrefix+name, and whose Last Will, if any, is its own retained
// status: mochi publishes wills without an ACL check, so a will elsewhere
// could plant another edge's desired state.
func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	if h.edges == nil || cl.Net.Inline {
		return true
	}
	addr := remoteAddr(cl.Net.Remote)
	if _, blocked := h.gate.Blocked(addr); blocked {
		return false
	}
	edge, err := h.edges.AuthenticateEdge(string(pk.Connect.Password))
	if err != nil {
		h.gate.Failed(addr, "credential", err)
		return false
	}
	user := string(pk.Connect.Username)
	if (user != "" && user != edge) || cl.ID != ClientIDPrefix+edge {
		h.gate.Failed(addr, "identity", nil)
		return false
	}
	if pk.Connect.WillFlag && pk.Connect.WillTopic != broker.EdgeStatusTopic(edge) {
		h.gate.Failed(addr, "will", nil)
		return false
	}
	// From here on the username is the credential's edge, whatever the client sent.
	cl.Properties.Username = []byte(edge)
	return true
}

// OnSessionEstablished authenticates the client again once its session is
// in place, and closes it if its credential no longer holds. DisconnectEdge
// closes the sessions the broker holds after the credential was revoked; a
// client whose credential was checked just before the revocation, and whose
// session was added just after DisconnectEdge looked, would otherwise keep
// a session its credential no longer allows.
func (h *authHook) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	if h.edges == nil || cl.Net.Inline {
		return
	}
	if edge, err := h.edges.AuthenticateEdge(string(pk.Connect.Password)); err != nil || edge != string(cl.Properties.Username) {
		_ = h.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
	}
}

// OnACLCheck lets an edge write only its own status and command replies,
// and read only its own desired state and commands. Nothing else, events
// included: those come from the control node alone.
func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if h.edges == nil || cl.Net.Inline {
		return true
	}
	edge, kind, err := broker.ParseEdgeTopic(topic)
	if err != nil || edge != string(cl.Properties.Username) {
		return false
	}
	if write {
		return kind == "status" || kind == "cmd/reply"
	}
	return kind == "desired" || kind == "cmd"
}

// OnWill keeps a will on its client's own status topic; connect already
// refuses any other, so this only guards against a will changed later.
func (h *authHook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	if h.edges == nil || cl.Net.Inline {
		return will, nil
	}
	if own := broker.EdgeStatusTopic(string(cl.Properties.Username)); will.TopicName != own {
		will.TopicName, will.Retain, will.Payload = own, true, broker.Encode(broker.EdgeStatus{V: broker.Version, Edge: string(cl.Properties.Username), Online: false})
	}
	return will, nil
}

// remoteAddr is the address part of a client's remote address.
func remoteAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}
