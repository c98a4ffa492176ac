package embedded

import (
	"context"
	"log/slog"
)

// quietHandler passes mochi's records on only from Error up, unless the
// operator asked for debug logs: mochi logs every client's connect,
// disconnect and write error at Info/Warn, with whole packets in them,
// which is noise in an operator's terminal (edge presence is logged by the
// control node itself, in its own words).
type quietHandler struct {
	slog.Handler
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if h.Handler.Enabled(ctx, slog.LevelDebug) {
		return true
	}
	return l >= slog.LevelError && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskPacket(a)
	}
	return quietHandler{h.Handler.WithAttrs(masked)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}
