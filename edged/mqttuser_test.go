package edged

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/eclipse/paho.golang/packets"

	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/internal/syncbuf"
)

// connectSeen is what a CONNECT carried.
type connectSeen struct {
	clientID, username, password string
	usernameFlag, passwordFlag   bool
}

// refusingBroker accepts MQTT connections, sends each CONNECT it reads to
// the channel it returns and refuses it with CONNACK 0x86 (bad username or
// password), as a broker that does not know the user does.
func refusingBroker(t *testing.T) (url string, seen <-chan connectSeen) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan connectSeen, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				cp, err := packets.ReadPacket(conn)
				if err != nil {
					return
				}
				c, ok := cp.Content.(*packets.Connect)
				if !ok {
					return
				}
				select {
				case ch <- connectSeen{c.ClientID, c.Username, string(c.Password), c.UsernameFlag, c.PasswordFlag}:
				default:
				}
				ack := packets.NewControlPacket(packets.CONNACK)
				ack.Content.(*packets.Connack).ReasonCode = 0x86
				_, _ = ack.WriteTo(conn)
			}()
		}
	}()
	return "mqtt://" + ln.Addr().String(), ch
}

// TestMQTTUser: the edge connects to the broker as its name with its
// credential, unless --mqtt-password (and --mqtt-username) say what its
// user at an external broker is; its uploads carry the credential either
// way, and the password is in no log line, even at debug level, nor in
// what the edge prints at start.
func TestMQTTUser(t *testing.T) {
	const pw = "mosquitto-password-of-cam-gw-1"
	cred := newSecret(t, secret.KindEdge).String()
	for _, tc := range []struct {
		name, user, pass string
		want             connectSeen
		summary          string
	}{
		{"credential", "", "", connectSeen{"lmx-edge-cam-gw-1", "cam-gw-1", cred, true, true},
			"authenticated with its credential\n"},
		{"mqtt-password", "", pw, connectSeen{"lmx-edge-cam-gw-1", "cam-gw-1", pw, true, true},
			`uploads authenticated with its credential; MQTT as user "cam-gw-1" with --mqtt-password` + "\n"},
		{"mqtt-username", "gw-user", pw, connectSeen{"lmx-edge-cam-gw-1", "gw-user", pw, true, true},
			`uploads authenticated with its credential; MQTT as user "gw-user" with --mqtt-password` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, seen := refusingBroker(t)
			cfg := edgeConfig(t, t.TempDir())
			cfg.Name, cfg.MQTT, cfg.Ingest, cfg.Credential = "cam-gw-1", url, "http://127.0.0.1:1", cred
			cfg.MQTTUsername, cfg.MQTTPassword = tc.user, tc.pass
			var logs syncbuf.Buffer
			e, err := New(cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), "test")
			if err != nil {
				t.Fatal(err)
			}
			if e.up.credential != cred {
				t.Errorf("uploads carry %q, want the credential", secret.Redact(e.up.credential))
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.Run(ctx) }()
			var got connectSeen
			select {
			case got = <-seen:
			case <-time.After(10 * time.Second):
				t.Fatal("no CONNECT in 10 s")
			}
			// The refusal is logged as it is the first of a run of them.
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "mqtt connect failed"); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the refused CONNECT is not logged:\n%s", logs.String())
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				w := tc.want
				got.password, w.password = secret.Redact(got.password), secret.Redact(w.password)
				t.Errorf("CONNECT %+v, want %+v", got, w)
			}
			if strings.Contains(logs.String(), pw) {
				t.Errorf("the MQTT password is in the log:\n%s", logs.String())
			}
			out, logs2, err := runEdge(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "; "+tc.summary) {
				t.Errorf("start output lacks %q:\n%s", tc.summary, out)
			}
			if strings.Contains(out+logs2, pw) {
				t.Errorf("the MQTT password is in the output:\n%s\n%s", out, logs2)
			}
		})
	}
}

// TestMQTTUserFlags: --mqtt-username and --mqtt-password are read from the
// flags and from LMX_MQTT_USERNAME and LMX_MQTT_PASSWORD, and are checked as
// MQTT takes them, with messages that never quote the password.
func TestMQTTUserFlags(t *testing.T) {
	parse := func(t *testing.T, env map[string]string, args ...string) (Config, error) {
		t.Helper()
		for _, kv := range os.Environ() {
			if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "LMX_") {
				t.Setenv(name, "")
				os.Unsetenv(name)
			}
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		var flags struct {
			Config `embed:""`
		}
		p, err := kong.New(&flags, kong.Exit(func(int) { t.Fatal("kong exited") }))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Parse(append([]string{"--name", "e1", "--controld", "ctl.example", "--allow-dir", t.TempDir(), "--state-dir", t.TempDir()}, args...))
		return flags.Config, err
	}
	c, err := parse(t, map[string]string{"LMX_MQTT_USERNAME": "mq-e1", "LMX_MQTT_PASSWORD": "pw from env"})
	if err != nil || c.MQTTUsername != "mq-e1" || c.MQTTPassword != "pw from env" || c.mqttUsername() != "mq-e1" || c.mqttPassword() != "pw from env" {
		t.Errorf("from the environment: %q %v, %v", c.MQTTUsername, c.MQTTPassword == "pw from env", err)
	}
	c, err = parse(t, nil, "--mqtt-password", "pw from flag")
	if err != nil || c.MQTTPassword != "pw from flag" || c.mqttUsername() != "e1" {
		t.Errorf("--mqtt-password: username %q, %v", c.mqttUsername(), err)
	}
	c, err = parse(t, nil)
	if err != nil || c.mqttUsername() != "e1" || c.mqttPassword() != "" {
		t.Errorf("neither: username %q, password set %v, %v", c.mqttUsername(), c.mqttPassword() != "", err)
	}
	long := strings.Repeat("p", maxMQTTString+1)
	for what, tc := range map[string]struct {
		args []string
		want string
	}{
		"control character": {[]string{"--mqtt-username", "a\nb"}, "--mqtt-username: holds a control character"},
		"long username":     {[]string{"--mqtt-username", long}, "--mqtt-username: 65536 bytes, at most 65535"},
		"long password":     {[]string{"--mqtt-password", long}, "--mqtt-password (LMX_MQTT_PASSWORD): 65536 bytes, at most 65535"},
	} {
		_, err := parse(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "ppp") {
			t.Errorf("%s: %.200v, want %q", what, err, tc.want)
		}
	}
	// kong makes every argument valid UTF-8; a program that embeds an edge
	// may not.
	c = edgeConfig(t, t.TempDir())
	c.Name, c.Controld, c.MQTTUsername = "e1", "ctl.example", "a\xffb"
	if err := c.Validate(); err == nil || err.Error() != "--mqtt-username: not valid UTF-8" {
		t.Errorf("username not UTF-8: %v", err)
	}
}
