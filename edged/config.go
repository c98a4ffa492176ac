// Package edged is the lmx edge agent: it takes the HLS that ffmpeg pushes
// (LiveMix's POST /v1/playlist), keeps a ring buffer of recent segments, and
// dials out to the control node over MQTT (control) and HTTP (segments), so
// nothing at the edge needs an open inbound port from outside its LAN.
package edged

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/bytesize"
	"github.com/lmx-video/lmx/internal/netaddr"
)

// Config is the edge agent's configuration. The struct tags make it usable
// directly as a kong flag set by both `lmx edged` and `lmx-edge`. The ports
// in the tags are netaddr's (tags must be constant strings; a test keeps
// them in step).
type Config struct {
	// Name identifies the edge to the control node (default: host name).
	Name string `name:"name" env:"LMX_EDGE_NAME" help:"Edge name the control node knows this agent by (default: host name)."`
	// Listen is where ffmpeg pushes playlists.
	Listen string `name:"listen" env:"LMX_EDGE_LISTEN" default:"127.0.0.1:9080" help:"Address for ffmpeg's playlist pushes (POST /v1/playlist). Loopback by default: ffmpeg writes the segments on this machine, so it pushes from here too; open it wider (e.g. :9080) only on purpose, as anyone who reaches it can push."`
	// Controld is the control node's host; it sets MQTT and Ingest to their default ports.
	Controld string `name:"controld" env:"LMX_CONTROLD" help:"Control node host (or host:mqtt-port); implies --mqtt mqtt://HOST:1883 and --ingest http://HOST:8081."`
	// MQTT is the control node's broker URL.
	MQTT string `name:"mqtt" env:"LMX_MQTT" help:"Control node's MQTT broker, e.g. mqtt://host:1883 (overrides --controld)."`
	// Ingest is the control node's segment ingest base URL.
	Ingest string `name:"ingest" env:"LMX_INGEST" help:"Control node's segment ingest URL, e.g. http://host:8081 (overrides --controld)."`
	// Join is the single-use join token `lmx edge add NAME` prints on the
	// control node: the edge exchanges it once for its own credential,
	// which it keeps in StateDir. Never logged.
	Join string `name:"join" env:"LMX_JOIN" secret:"" placeholder:"TOKEN" help:"Join token from 'lmx edge add NAME' on the control node: exchanged once for this edge's own credential, kept in --state-dir (never logged)."`
	// StateDir is where the edge keeps its credential (see DefaultStateDir).
	// Programs that embed an edge beside their own control node (the demo,
	// tests) point it at a directory of their own, so the machine's edge
	// identity is never picked up.
	StateDir string `name:"state-dir" env:"LMX_EDGE_STATE_DIR" placeholder:"DIR" help:"Where the edge keeps its credential (default: $STATE_DIRECTORY, else $XDG_STATE_HOME/lmx-edge, else ~/.local/state/lmx-edge)."`
	// MQTTUsername and MQTTPassword are the edge's MQTT user at an external
	// broker (the control node's --broker), which cannot know the
	// credential the edge got when it joined: the operator creates the
	// user there and gives the edge its password. When MQTTPassword is
	// set it replaces the credential as the MQTT password (uploads keep
	// using the credential); MQTTUsername defaults to the edge's name.
	MQTTUsername string `name:"mqtt-username" env:"LMX_MQTT_USERNAME" placeholder:"USER" help:"Username at an external MQTT broker (the control node's --broker; default: the edge name)."`
	// MQTTPassword is never logged; pass it in the environment, not on the
	// command line, where ps shows it.
	MQTTPassword string `name:"mqtt-password" env:"LMX_MQTT_PASSWORD" secret:"" placeholder:"PASSWORD" help:"Password at an external MQTT broker, in place of the edge's credential (uploads still use the credential); never logged. Set it in the environment: ps shows the flag."`
	// RemovedToken is the shared-token flag of earlier releases, kept
	// hidden so that a command line or environment still carrying it fails
	// with a message saying what replaced it.
	RemovedToken string `name:"token" env:"LMX_EDGE_TOKEN" secret:"" hidden:"" help:"Removed: edges join with --join."`
	// Credential is the edge's own secret: its MQTT password (unless
	// MQTTPassword is set) and the bearer of its uploads. Validate reads it from StateDir, or the join exchange
	// gets it; a program that embeds an edge may set it. Not a flag, never
	// logged.
	Credential string `kong:"-"`
	// CAPin, when set, is the control node's CA pin (from the join token or
	// the state dir): the edge's TLS connections trust that CA alone.
	CAPin string `kong:"-"`
	// AllowDirs are the only directories segment files are read from.
	AllowDirs []string `name:"allow-dir" env:"LMX_ALLOW_DIRS" sep:"," help:"Directory ffmpeg writes segments to; pushed segments are read only inside these (repeatable; none for an edge that only pulls cameras)."`
	// Buffer is how much recent media the ring buffer keeps per source.
	Buffer time.Duration `name:"buffer" env:"LMX_EDGE_BUFFER" default:"120s" help:"How much recent media to keep per source (for recordings that start in the past)."`
	// BufferBytes bounds the ring buffer's memory across all sources.
	BufferBytes bytesize.Size `name:"buffer-bytes" env:"LMX_EDGE_BUFFER_BYTES" default:"256MiB" help:"Memory bound of the ring buffer across all sources."`
	// MaxPlaylistBytes bounds a pushed playlist body.
	MaxPlaylistBytes bytesize.Size `name:"max-playlist-bytes" default:"1MiB" help:"Largest playlist body accepted (413 beyond)."`
	// MaxSegmentBytes bounds one segment file.
	MaxSegmentBytes bytesize.Size `name:"max-segment-bytes" default:"64MiB" help:"Largest segment file read; larger ones are skipped and counted."`
	// OwnProcess says the edge is alone in its process (lmx edged, lmx-edge),
	// so it may tune the Go runtime's memory limit to its ring buffer. Not a
	// flag: the demo and tests run it beside a control node, whose cache
	// such a limit would starve.
	OwnProcess bool `kong:"-"`
	// Heartbeat is how often the edge republishes its status.
	Heartbeat time.Duration `name:"heartbeat" default:"5s" help:"How often the edge republishes its status."`
	// credentialFile is the state file Credential was read from or written
	// to, for the startup line.
	credentialFile string
}

// DefaultConfig is the configuration `lmx edged` and `lmx-edge` run with
// when no flag is given (the same values as the kong defaults in the struct
// tags, which a test keeps in step). It names no control node and allows no
// directory: those have no default. Programs that embed an edge (the demo,
// tests) start from it and set what they need.
func DefaultConfig() Config {
	return Config{
		Listen:           "127.0.0.1:" + strconv.Itoa(netaddr.EdgeIngestPort),
		Buffer:           120 * time.Second,
		BufferBytes:      256 << 20,
		MaxPlaylistBytes: 1 << 20,
		MaxSegmentBytes:  64 << 20,
		Heartbeat:        5 * time.Second,
	}
}

// Sentinel configuration errors.
var (
	// ErrNoControld is returned when neither --join, a credential in the
	// state dir, nor --controld or --mqtt/--ingest name the control node.
	ErrNoControld = errors.New("no control node given: start the edge with --join TOKEN (from `lmx edge add NAME` on the control node), or set --controld HOST (or --mqtt and --ingest)")
	// ErrTokenGone is returned for the removed --token flag.
	ErrTokenGone = errors.New("--token (LMX_EDGE_TOKEN) is gone: register the edge with `lmx edge add NAME` on the control node and start it with --join")
	// ErrNoAllowDir is returned when no directory is allowed.
	ErrNoAllowDir = errors.New("this edge was started without --allow-dir, so it takes pushes of no directory (it reads segment files only inside directories you allow, and its own for pulled cameras): restart it with --allow-dir /path/ffmpeg/writes/to")
)

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.RemovedToken != "" {
		return ErrTokenGone
	}
	if c.Controld != "" {
		host, port, err := net.SplitHostPort(c.Controld)
		if err != nil {
			host, port = c.Controld, strconv.Itoa(netaddr.MQTTPort)
		}
		if c.MQTT == "" {
			c.MQTT = "mqtt://" + net.JoinHostPort(host, port)
		}
		if c.Ingest == "" {
			c.Ingest = "http://" + net.JoinHostPort(host, strconv.Itoa(netaddr.PlaybackPort))
		}
	}
	// After --controld: URLs given as flags win over the join token's and
	// the state dir's.
	if err := c.resolveIdentity(); err != nil {
		return err
	}
	if c.Name == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("no --name and no host name: %w", err)
		}
		c.Name = sanitizeName(h)
	}
	if err := broker.ValidateName(c.Name); err != nil {
		return fmt.Errorf("--name: %w", err)
	}
	if c.MQTT == "" || c.Ingest == "" {
		return ErrNoControld
	}
	if err := c.checkMQTTUser(); err != nil {
		return err
	}
	if err := c.checkLink(); err != nil {
		return err
	}
	// No --allow-dir is an edge that only pulls cameras: it reads only its
	// own pull directories, and pushes get a 403 saying what to add.
	for i, d := range c.AllowDirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("--allow-dir %q: %w", d, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return fmt.Errorf("--allow-dir %q: %w", d, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("--allow-dir %q: not a directory", d)
		}
		c.AllowDirs[i] = abs
	}
	if c.Buffer <= 0 {
		return fmt.Errorf("--buffer %s: must be positive", c.Buffer)
	}
	if c.BufferBytes < 1<<20 {
		return fmt.Errorf("--buffer-bytes %s: must be at least 1MiB", c.BufferBytes)
	}
	if c.MaxPlaylistBytes <= 0 || c.MaxSegmentBytes <= 0 {
		return errors.New("--max-playlist-bytes and --max-segment-bytes must be positive")
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 5 * time.Second
	}
	return nil
}

// maxMQTTString is the longest string an MQTT CONNECT can carry.
const maxMQTTString = 65535

// checkMQTTUser checks --mqtt-username and --mqtt-password as MQTT takes
// them (UTF-8 strings, binary data) without ever quoting the password.
func (c *Config) checkMQTTUser() error {
	u := c.MQTTUsername
	switch {
	case len(u) > maxMQTTString:
		return fmt.Errorf("--mqtt-username: %d bytes, at most %d", len(u), maxMQTTString)
	case !utf8.ValidString(u):
		return errors.New("--mqtt-username: not valid UTF-8")
	case strings.ContainsFunc(u, unicode.IsControl):
		return errors.New("--mqtt-username: holds a control character")
	case len(c.MQTTPassword) > maxMQTTString:
		return fmt.Errorf("--mqtt-password (LMX_MQTT_PASSWORD): %d bytes, at most %d", len(c.MQTTPassword), maxMQTTString)
	}
	return nil
}

// mqttUsername is the username the edge connects to the broker with.
func (c *Config) mqttUsername() string { return cmp.Or(c.MQTTUsername, c.Name) }

// mqttPassword is the password the edge connects to the broker with: the
// external broker's, else its credential.
func (c *Config) mqttPassword() string { return cmp.Or(c.MQTTPassword, c.Credential) }

// sanitizeName turns a host name into a valid edge name.
func sanitizeName(h string) string {
	h, _, _ = strings.Cut(h, ".")
	b := []byte(h)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "edge"
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}
