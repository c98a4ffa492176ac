package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/controld"
)

// lockedBuffer is an io.Writer a command and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestControldBanner: the start banner names the MQTT broker edges dial:
// an external --broker as it is given, plain mqtt:// while the node's own
// listeners serve TLS, its password hidden; else the embedded broker, on
// mqtts:// with TLS.
func TestControldBanner(t *testing.T) {
	for _, tc := range []struct{ name, broker, want string }{
		{"external", "mqtt://127.0.0.1:1", "  MQTT broker     mqtt://127.0.0.1:1 (external: each edge logs in as its own user there)\n"},
		{"external with a password", "mqtt://controld:s3cret@127.0.0.1:1", "  MQTT broker     mqtt://controld:xxxxx@127.0.0.1:1 (external"},
		{"embedded", "", "  MQTT broker     mqtts://127.0.0.1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := controld.DefaultConfig()
			cfg.DataDir, cfg.APIListen, cfg.VODListen, cfg.MQTTListen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
			cfg.TLS, cfg.Broker = "on", tc.broker
			cmd := &ControldCmd{Config: cfg}
			ctx, cancel := context.WithCancel(context.Background())
			var out lockedBuffer
			done := make(chan error, 1)
			go func() {
				done <- cmd.Run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout{Writer: &out}, BuildInfo{Version: "test"})
			}()
			for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "An edge joins with"); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					cancel()
					t.Fatalf("no banner in 15 s: %v\n%s", <-done, out.String())
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if !strings.Contains(out.String(), tc.want) || strings.Contains(out.String(), "s3cret") {
				t.Errorf("banner lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}
