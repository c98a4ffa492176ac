package embedded

import (
	"bytes"
	"crypto/subtle"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lmx-video/lmx/broker"
)

// authHook checks the shared token and keeps each client to its own edge's
// topics. With no token it allows everything.
type authHook struct {
	mqtt.HookBase
	token string
}

// ID names the hook.
func (h *authHook) ID() string { return "lmx-auth" }

// Provides tells mochi which hook methods are implemented.
func (h *authHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

// OnConnectAuthenticate accepts a client that presents the token as its password.
func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	if h.token == "" || cl.Net.Inline {
		return true
	}
	return subtle.ConstantTimeCompare(pk.Connect.Password, []byte(h.token)) == 1
}

// OnACLCheck lets any authenticated client read lmx topics, and write only
// the status and command replies of the edge named by its username.
func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if h.token == "" || cl.Net.Inline {
		return true
	}
	if !write {
		return strings.HasPrefix(topic, broker.Prefix+"/")
	}
	edge, kind, err := broker.ParseEdgeTopic(topic)
	if err != nil {
		return false
	}
	return edge == string(cl.Properties.Username) && (kind == "status" || kind == "cmd/reply")
}
