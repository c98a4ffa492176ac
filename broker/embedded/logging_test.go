package embedded

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TestLogsNoPacketSecrets: mochi logs whole packets at debug (a CONNECT
// with an edge's credential, a desired state with camera passwords); what
// reaches the log is only what names them.
func TestLogsNoPacketSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(quietHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})})
	desired := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "lmx/v1/edges/gw/desired",
		Payload: []byte(`{"sources":{"cam":{"pull_url":"rtsp://u:camsecret@10.0.0.7/s"}}}`)}
	connect := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	connect.Connect.Password = []byte("lmxe.0123456789abcdef.edgesecret")
	log.Debug("failed publishing packet", "client", "lmx-edge-gw", "packet", desired)
	log.Warn("error processing packet", "pk", &connect)
	log.With("packet", desired).Error("publish packet error")
	log.Error("parse will error", "will", mqtt.Will{TopicName: "lmx/v1/edges/gw/status", Payload: []byte("camsecret")})
	out := buf.String()
	for _, secret := range []string{"camsecret", "edgesecret"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"topic=lmx/v1/edges/gw/desired", "type=Publish", "type=Connect", "bytes="} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}
