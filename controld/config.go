// Package controld is the lmx control node: an embedded MQTT broker that
// links the edges, SQLite for state, an in-memory segment cache, the
// LiveMix-compatible management API and the playback/ingest HTTP listener.
package controld

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lmx-video/lmx/internal/bytesize"
	"github.com/lmx-video/lmx/internal/days"
	"github.com/lmx-video/lmx/internal/netaddr"
)

// Config is the control node's configuration. The struct tags make it a
// kong flag set; every flag is also an LMX_* environment variable.
type Config struct {
	// DataDir holds lmx.db and, by default, recordings.
	DataDir string `name:"data-dir" env:"LMX_DATA_DIR" help:"Directory for the SQLite database and local recordings (default: $XDG_DATA_HOME/lmx or ~/.local/share/lmx)."`
	// APIListen is the management API's address.
	APIListen string `name:"api-listen" env:"LMX_API_LISTEN" default:":8080" help:"Address of the management API (LiveMix-compatible JSON)."`
	// VODListen is the playback and segment-ingest address.
	VODListen string `name:"vod-listen" env:"LMX_VOD_LISTEN" default:":8081" help:"Address for playback (HLS) and segment uploads from edges."`
	// MQTTListen is the embedded broker's address (default :1883, or :8883 with TLS).
	MQTTListen string `name:"mqtt-listen" env:"LMX_MQTT_LISTEN" help:"Address of the embedded MQTT broker edges dial (default :1883, :8883 with TLS)."`
	// Broker, when set, is an external MQTT broker used instead of the embedded one.
	Broker string `name:"broker" env:"LMX_BROKER" help:"Use an external MQTT broker (mqtt://host:1883) instead of the embedded one; --mqtt-listen is then unused."`
	// CacheSize bounds the replay cache of recorded segments.
	CacheSize bytesize.Size `name:"cache-size" env:"LMX_CACHE_SIZE" default:"256MiB" help:"Memory for the replay cache (recorded segments being watched; live segments are held apart, see --live-memory)."`
	// LiveMemory caps what live windows hold: each source its listed
	// segments and as many that slid out, for players a playlist behind.
	LiveMemory bytesize.Size `name:"live-memory" env:"LMX_LIVE_MEMORY" default:"1GiB" help:"Memory for live segments. A streaming source holds its listed segments and as many that slid out: about sources × 2 × --live-segments × the largest segment (100 sources of 2 s at 4 Mbit/s: 100 × 10 × 1 MB = 1 GB). Past it, slid-out segments go first, then new segments are refused (507, logged and counted)."`
	// LiveSegments is how many segments a live playlist lists (at least 3 target durations are always covered).
	LiveSegments int `name:"live-segments" env:"LMX_LIVE_SEGMENTS" default:"5" help:"Segments listed in a live playlist (at least three target durations)."`
	// NoAutoRegister refuses pushes of source names not created first.
	NoAutoRegister bool `name:"no-auto-register" env:"LMX_NO_AUTO_REGISTER" help:"Do not register unknown source names on first push; such pushes get 404."`
	// Auth is "on" (tokens, edge credentials, grants) or "none" (LiveMix's
	// open behaviour: anyone may do anything, and nothing is encrypted).
	Auth string `name:"auth" env:"LMX_AUTH" enum:"on,none" default:"on" help:"Access control: on (API tokens, per-edge credentials, signed playback URLs) or none (LiveMix's open behaviour: anyone who reaches the node may watch, change and delete everything; plain HTTP and MQTT)."`
	// TLS is "auto" (TLS unless every listener is on loopback), "on" or "off".
	TLS string `name:"tls" env:"LMX_TLS" enum:"auto,on,off" default:"auto" help:"TLS on the management API, playback and MQTT: auto (on unless every listener is on loopback), on, or off (behind a TLS-terminating proxy). Without --tls-cert the node makes its own CA in DATA-DIR/tls."`
	// TLSCert and TLSKey are the operator's certificate (chain) and key.
	TLSCert string `name:"tls-cert" env:"LMX_TLS_CERT" type:"path" help:"PEM certificate (with its chain) for every listener; implies TLS."`
	// TLSKey is the key of TLSCert.
	TLSKey string `name:"tls-key" env:"LMX_TLS_KEY" type:"path" help:"PEM private key of --tls-cert."`
	// Hostnames name this node in its own certificate and in join tokens.
	Hostnames []string `name:"hostname" env:"LMX_HOSTNAME" sep:"," help:"Name edges and players use to reach this node (repeatable): put in the node's own certificate beside the machine's names and addresses, and the first one in join tokens."`
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []string `name:"trusted-proxy" env:"LMX_TRUSTED_PROXY" sep:"," help:"Address or CIDR of a reverse proxy whose X-Forwarded-For is believed (repeatable); from anyone else it is ignored."`
	// AdminGroup, when set, may read the admin token: DATA-DIR/admin.token
	// is made 0640 and the data dir 0750, both given to the group.
	AdminGroup string `name:"admin-group" env:"LMX_ADMIN_GROUP" placeholder:"GROUP" help:"Group whose members may read DATA-DIR/admin.token, and so run lmx on this machine as admins: the file is made 0640 and the data dir 0750, both given to the group (the packages use lmx)."`
	// RotateGrantKey replaces the playback grant key at start.
	RotateGrantKey bool `name:"rotate-grant-key" help:"Replace the key playback URLs are signed with, at start: every signed URL handed out before stops working."`
	// BrokerUsername and BrokerPassword authenticate the control node to --broker.
	BrokerUsername string `name:"broker-username" env:"LMX_BROKER_USERNAME" default:"controld" help:"MQTT username at --broker."`
	// BrokerPassword is the control node's password at --broker; never logged.
	BrokerPassword string `name:"broker-password" env:"LMX_BROKER_PASSWORD" secret:"" help:"MQTT password at --broker (never logged)."`
	// PublicURL is how players reach the playback listener, for printed URLs.
	PublicURL string `name:"public-url" env:"LMX_PUBLIC_URL" help:"Base URL players use to reach the playback listener (default: derived from --vod-listen)."`
	// CORSOrigin is the Access-Control-Allow-Origin of playback answers.
	CORSOrigin string `name:"cors-origin" env:"LMX_CORS_ORIGIN" default:"*" help:"Access-Control-Allow-Origin for playback answers."`
	// Recordings is where recorded segments are kept: file:///dir or
	// s3://bucket/prefix?endpoint=host:9000&secure=false.
	Recordings string `name:"recordings" env:"LMX_RECORDINGS" help:"Where recordings go: file:///dir (default: DATA-DIR/recordings) or s3://bucket/prefix?endpoint=host:9000&secure=false (credentials from LMX_S3_ACCESS_KEY/LMX_S3_SECRET_KEY)."`
	// MaxSegmentBytes bounds one uploaded segment.
	MaxSegmentBytes bytesize.Size `name:"max-segment-bytes" env:"LMX_MAX_SEGMENT_BYTES" default:"64MiB" help:"Largest segment accepted from an edge (413 beyond); at most --live-memory."`

	// Idle is how long an on-demand source keeps uploading live after the
	// last playlist request, for sources that set no idle time of their own.
	Idle time.Duration `name:"idle" env:"LMX_IDLE" default:"60s" help:"How long an on-demand source keeps uploading live after the last playlist request, unless the source sets its own (lmx source set NAME --idle)."`
	// Continuous recording and retention (see config_retention.go).

	// RecordChunk is the length of one continuous-recording chunk for
	// sources that set none.
	RecordChunk days.Duration `name:"record-chunk" env:"LMX_RECORD_CHUNK" default:"1h" help:"Length of one chunk of continuous recording (lmx source set NAME --record always) for sources that set none; chunks start on multiples of it (1h: on the hour, UTC). 10s to 1d."`
	// Retain is how long recordings of sources that set none are kept after they stop; 0 keeps them.
	Retain days.Duration `name:"retain" env:"LMX_RETAIN" default:"0" help:"How long recordings are kept after they stop, for sources that set none (lmx source set NAME --retain): 7d, 2w, 12h; 0 keeps them. Pinned recordings are never deleted."`
	// RetainSize caps the bytes of every stored recorded segment; 0 is no cap.
	RetainSize bytesize.Size `name:"retain-size" env:"LMX_RETAIN_SIZE" default:"0" help:"Cap on the recordings store (200GiB): past it the oldest stopped, unpinned recordings are deleted first; 0 is no cap. Pinned and active recordings count toward it but are never deleted."`
	// RetentionEvery is the time between retention passes.
	RetentionEvery days.Duration `name:"retention-every" env:"LMX_RETENTION_EVERY" default:"1m" hidden:"" help:"Time between retention passes."`
}

// DefaultConfig is the configuration `lmx controld` runs with when no flag
// is given (the same values as the kong defaults in the struct tags, which a
// test keeps in step). Programs that embed a control node (the demo, tests)
// start from it and change what they need.
func DefaultConfig() Config {
	return Config{
		APIListen:       netaddr.Listen(netaddr.APIPort),
		VODListen:       netaddr.Listen(netaddr.PlaybackPort),
		Auth:            "on",
		TLS:             "auto",
		BrokerUsername:  "controld",
		CacheSize:       256 << 20,
		LiveMemory:      1 << 30,
		LiveSegments:    5,
		CORSOrigin:      "*",
		MaxSegmentBytes: 64 << 20,
		Idle:            60 * time.Second,
		RecordChunk:     days.Duration(time.Hour),
		RetentionEvery:  days.Duration(time.Minute),
	}
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		base := os.Getenv("XDG_DATA_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return fmt.Errorf("no --data-dir and no home directory: %w", err)
			}
			base = filepath.Join(home, ".local", "share")
		}
		c.DataDir = filepath.Join(base, "lmx")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("--data-dir %q: %w", c.DataDir, err)
	}
	c.DataDir = abs
	switch c.Auth {
	case "":
		c.Auth = "on"
	case "on", "none":
	default:
		return fmt.Errorf("--auth %q: want on or none", c.Auth)
	}
	switch c.TLS {
	case "":
		c.TLS = "auto"
	case "auto", "on", "off":
	default:
		return fmt.Errorf("--tls %q: want auto, on or off", c.TLS)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if c.TLSCert != "" && c.TLS == "off" {
		return errors.New("--tls off with --tls-cert: drop one")
	}
	mqttDefault := c.MQTTListen == ""
	if mqttDefault {
		c.MQTTListen = netaddr.Listen(netaddr.MQTTPort)
	}
	for flag, addr := range map[string]string{"--api-listen": c.APIListen, "--vod-listen": c.VODListen, "--mqtt-listen": c.MQTTListen} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("%s %q: want host:port or :port", flag, addr)
		}
	}
	if c.CacheSize < 4<<20 {
		return fmt.Errorf("--cache-size %s: must be at least 4MiB", c.CacheSize)
	}
	if c.LiveSegments < 3 || c.LiveSegments > 100 {
		return fmt.Errorf("--live-segments %d: must be between 3 and 100", c.LiveSegments)
	}
	if c.LiveMemory < 16<<20 {
		return fmt.Errorf("--live-memory %s: must be at least 16MiB", c.LiveMemory)
	}
	if c.MaxSegmentBytes <= 0 {
		return errors.New("--max-segment-bytes must be positive")
	}
	if c.MaxSegmentBytes > c.LiveMemory {
		return fmt.Errorf("--max-segment-bytes %s is more than --live-memory %s: such a segment could never be held for live playback", c.MaxSegmentBytes, c.LiveMemory)
	}
	if c.Idle == 0 {
		c.Idle = 60 * time.Second
	}
	if c.Idle < time.Second || c.Idle > 24*time.Hour {
		return fmt.Errorf("--idle %s: must be between 1s and 24h", c.Idle)
	}
	if err := c.validateRetention(); err != nil {
		return err
	}
	if c.Recordings == "" {
		abs, err := filepath.Abs(filepath.Join(c.DataDir, "recordings"))
		if err != nil {
			return err
		}
		c.Recordings = "file://" + abs
	}
	if mqttDefault && c.UseTLS() {
		c.MQTTListen = netaddr.Listen(netaddr.MQTTTLSPort)
	}
	if c.PublicURL == "" {
		scheme := "http://"
		if c.UseTLS() {
			scheme = "https://"
		}
		c.PublicURL = scheme + netaddr.Dial(c.VODListen)
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	return nil
}

// AuthOn reports whether access control is on (not --auth none).
func (c *Config) AuthOn() bool { return c.Auth != "none" }

// UseTLS reports whether the listeners serve TLS: with the operator's
// certificate, when asked (--tls on), or by default when access control is
// on and any listener is reachable beyond this machine. --auth none is
// plain unless a certificate is given, as LiveMix was.
func (c *Config) UseTLS() bool {
	switch {
	case c.TLSCert != "":
		return true
	case c.TLS == "off":
		return false
	case c.TLS == "on":
		return true
	}
	if !c.AuthOn() {
		return false
	}
	for _, addr := range []string{c.APIListen, c.VODListen, c.MQTTListen} {
		if !netaddr.IsLoopback(addr) {
			return true
		}
	}
	return false
}
