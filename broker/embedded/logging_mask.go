package embedded

import (
	"context"
	"log/slog"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Handle passes the record on with every packet mochi attaches reduced to
// what names it (type, topic, payload size). mochi logs whole packets at
// debug and on errors: a CONNECT holds an edge's credential, and a desired
// state holds the camera URLs (with their passwords) of its edge's pulled
// sources, neither of which may reach a log.
func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskPacket(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

// maskPacket replaces a packet or a will by its summary.
func maskPacket(a slog.Attr) slog.Attr {
	switch v := a.Value.Any().(type) {
	case packets.Packet:
		return packetSummary(a.Key, v)
	case *packets.Packet:
		if v != nil {
			return packetSummary(a.Key, *v)
		}
	case mqtt.Will:
		return slog.Group(a.Key, "topic", v.TopicName, "bytes", len(v.Payload))
	}
	return a
}

func packetSummary(key string, pk packets.Packet) slog.Attr {
	return slog.Group(key, "type", packets.PacketNames[pk.FixedHeader.Type], "topic", pk.TopicName, "bytes", len(pk.Payload))
}
