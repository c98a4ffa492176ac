package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/lmx-video/lmx/controld"
	"github.com/lmx-video/lmx/edged"
	"github.com/lmx-video/lmx/internal/config"
	"github.com/lmx-video/lmx/internal/demo"
	"github.com/lmx-video/lmx/internal/netaddr"
)

// Where the daemons read their configuration when --config is not given
// and the file exists: the files the packages install.
const (
	defaultControldConfig = "/etc/lmx/controld.yaml"
	defaultEdgedConfig    = "/etc/lmx/edged.yaml"
)

// controldConfigFile and edgedConfigFile are the defaults, but where tests
// point them.
var (
	controldConfigFile = defaultControldConfig
	edgedConfigFile    = defaultEdgedConfig
)

// ControldCmd runs the control node.
type ControldCmd struct {
	controld.Config `embed:""`
	config.Flags    `embed:"" set:"config_file=${controld_config_file}"`
}

// Help shows an example.
func (c *ControldCmd) Help() string {
	return `Access control is on by default: the first start writes an admin token to
DATA-DIR/admin.token (0600), which lmx on this machine reads by itself; a node
reachable beyond loopback serves TLS with its own CA (DATA-DIR/tls) unless
given --tls-cert/--tls-key. --auth none is LiveMix's open behaviour.

Every flag can be set in /etc/lmx/controld.yaml (or --config FILE) by its
long name (data-dir: /var/lib/lmx); flags and variables override the file.

Examples:
  lmx controld
  lmx controld --data-dir /var/lib/lmx --hostname video.example.net
  lmx controld --tls-cert /etc/lmx/fullchain.pem --tls-key /etc/lmx/key.pem
  lmx controld --auth none --api-listen 127.0.0.1:8080
  lmx controld --config /etc/lmx/controld.yaml --print-config`
}

// Run starts the control node and serves until interrupted.
func (c *ControldCmd) Run(ctx context.Context, log *slog.Logger, out Stdout, bi BuildInfo) error {
	srv, err := controld.New(ctx, c.Config, log, bi.Version)
	if err != nil {
		return err
	}
	cfg := srv.Config()
	broker := srv.BrokerURL()
	if cfg.Broker != "" {
		broker += " (external: each edge logs in as its own user there)"
	}
	fmt.Fprintf(out, "lmx controld %s\n", bi.Version)
	fmt.Fprintf(out, "  management API  %s\n", srv.APIURL())
	fmt.Fprintf(out, "  playback        %s/v1/vod/live/{source}/vid.m3u8\n", cfg.PublicURL)
	fmt.Fprintf(out, "  MQTT broker     %s\n", broker)
	fmt.Fprintf(out, "  data            %s\n", cfg.DataDir)
	fmt.Fprintf(out, "  recordings      %s\n", srv.RecordingsStore())
	if b := srv.TLS(); b != nil {
		if b.CAFile != "" {
			fmt.Fprintf(out, "  TLS             CA %s (pin %s)\n", b.CAFile, b.Pin)
			fmt.Fprintf(out, "                  players: ffplay -ca_file %s -tls_verify 1 URL, or install the CA\n", b.CAFile)
		} else {
			fmt.Fprintf(out, "  TLS             certificate for %s\n", strings.Join(b.Names, ", "))
		}
	}
	if srv.AuthOn() {
		path, created := srv.AdminTokenFile()
		what := "admin token in"
		if created {
			what = "admin token created:"
		}
		who := "0600; lmx on this machine reads it"
		if cfg.AdminGroup != "" {
			who = "0640, group " + cfg.AdminGroup + ": lmx run by its members reads it"
		}
		fmt.Fprintf(out, "  access          %s %s (%s)\n", what, path, who)
	} else {
		log.Warn("access control is off (--auth none): anyone who reaches " + srv.APIURL() + " may list, watch, change and delete every source and recording, any client may act as any edge, and nothing is encrypted")
	}
	fmt.Fprintf(out, "An edge joins with:\n  %s\n", controld.EdgeJoinCommand(srv, "HOST"))
	return srv.Run(ctx)
}

// EdgedCmd runs the edge agent.
type EdgedCmd struct {
	edged.Config `embed:""`
	config.Flags `embed:"" set:"config_file=${edged_config_file}"`
}

// Help shows an example.
func (c *EdgedCmd) Help() string {
	return fmt.Sprintf(`The first start with --join (the token lmx edge add NAME prints on the
control node) exchanges it for the edge's own credential, kept in
--state-dir; later starts use that, with or without --join. With an external
broker (lmx controld --broker), give the edge its password there in
LMX_MQTT_PASSWORD. Every flag can be set in /etc/lmx/edged.yaml (or --config
FILE) by its long name (allow-dir: [/srv/hls]).

Examples:
  lmx edged --join JOIN-TOKEN --allow-dir /var/lib/lmx/segments
  LMX_MQTT_PASSWORD="$PW" lmx edged --join JOIN-TOKEN --allow-dir /var/lib/lmx/segments
  lmx edged --allow-dir /var/lib/lmx/segments
  lmx edged --name cam-gw-1 --controld control.example.net --allow-dir /var/lib/lmx/segments
  lmx edged --mqtt mqtt://10.0.0.5:%d --ingest http://10.0.0.5:%d --allow-dir /srv/hls
  lmx edged --config /etc/lmx/edged.yaml --print-config`,
		netaddr.MQTTPort, netaddr.PlaybackPort)
}

// Run starts the edge agent and serves until interrupted.
func (c *EdgedCmd) Run(ctx context.Context, log *slog.Logger, out Stdout, bi BuildInfo) error {
	return edged.RunMain(ctx, c.Config, log, out, bi.Version)
}

// DemoCmd runs a control node, an edge and a test stream on this machine.
type DemoCmd struct {
	demo.Config `embed:""`
}

// Help shows an example.
func (c *DemoCmd) Help() string {
	return `Runs everything on loopback: a control node, an edge agent and a test
source (ffmpeg's test pattern when ffmpeg is installed, otherwise a short clip
shipped with lmx, looped), then prints the URL to watch. Ctrl-C stops it all.

Examples:
  lmx demo
  lmx demo --no-ffmpeg`
}

// Run starts the demo.
func (c *DemoCmd) Run(ctx context.Context, log *slog.Logger, out Stdout, bi BuildInfo) error {
	return demo.Run(ctx, c.Config, log, out, bi.Version)
}
