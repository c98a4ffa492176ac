// Package demo runs a whole lmx system on one machine: a control node, an
// edge agent and a test source, all on loopback.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld"
	"github.com/lmx-video/lmx/edged"
)

// Config is the demo's configuration (kong flags).
type Config struct {
	// DataDir keeps the demo's state; empty means a temporary directory removed on exit.
	DataDir string `name:"data-dir" help:"Keep the demo's state here (default: a temporary directory removed on exit)."`
	// Source is the test source's name.
	Source string `name:"source" default:"camera-0" help:"Name of the test source."`
	// NoFFmpeg uses the shipped clip even when ffmpeg is installed.
	NoFFmpeg bool `name:"no-ffmpeg" help:"Push the shipped clip instead of ffmpeg's test pattern."`
	// APIPort, VODPort, MQTTPort and EdgePort are the preferred loopback ports;
	// a busy one is replaced by a free one.
	APIPort int `name:"api-port" default:"8080" help:"Management API port (a free one is used if busy)."`
	// VODPort is the playback port.
	VODPort int `name:"vod-port" default:"8081" help:"Playback port (a free one is used if busy)."`
	// MQTTPort is the broker port.
	MQTTPort int `name:"mqtt-port" default:"1883" help:"MQTT port (a free one is used if busy)."`
	// EdgePort is the edge's ingest port.
	EdgePort int `name:"edge-port" default:"9080" help:"Edge ingest port (a free one is used if busy)."`
}

// Run runs the demo until ctx ends.
func Run(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer, version string) error {
	dataDir := cfg.DataDir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "lmx-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	segDir := filepath.Join(dataDir, "segments")
	if err := os.MkdirAll(segDir, 0o755); err != nil {
		return err
	}
	segDir, _ = filepath.Abs(segDir)

	ccfg := controld.DefaultConfig()
	ccfg.DataDir = filepath.Join(dataDir, "controld")
	ccfg.APIListen = loopback(cfg.APIPort)
	ccfg.VODListen = loopback(cfg.VODPort)
	ccfg.MQTTListen = loopback(cfg.MQTTPort)
	srv, err := controld.New(ctx, ccfg, logger.With("node", "controld"), version)
	if err != nil {
		return err
	}
	ecfg := edged.DefaultConfig()
	ecfg.Name = "demo-edge"
	ecfg.Listen = loopback(cfg.EdgePort)
	ecfg.MQTT = "mqtt://" + srv.MQTTAddr().String()
	ecfg.Ingest = "http://" + srv.VODAddr().String()
	ecfg.AllowDirs = []string{segDir}
	// Beside a control node in one process: a smaller buffer, and a faster
	// heartbeat so `lmx edge ls` shows the demo's edge at once.
	ecfg.BufferBytes = 64 << 20
	ecfg.Heartbeat = 2 * time.Second
	edge, err := edged.New(ecfg, logger.With("node", "edged"), version)
	if err != nil {
		return err
	}

	// The edge and the test source stop first, then the control node, as
	// on real machines: the edge says goodbye while the broker still listens.
	srvCtx, stopSrv := context.WithCancel(context.Background())
	defer stopSrv()
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return edge.Run(gctx) })
	g.Go(func() error {
		return drive(gctx, cfg, srv, edge, segDir, logger, out)
	})
	g.Go(func() error {
		select {
		case err := <-srvDone:
			srvDone <- err
			if err == nil {
				err = errors.New("control node stopped")
			}
			return err
		case <-gctx.Done():
			return nil
		}
	})
	err = g.Wait()
	stopSrv()
	if serr := <-srvDone; err == nil {
		err = serr
	}
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		fmt.Fprintln(out, "\nlmx demo stopped.")
		return nil
	}
	return err
}

// drive creates the source, turns streaming on, starts the test source and
// prints where to watch once the first segments are live.
func drive(ctx context.Context, cfg Config, srv *controld.Server, edge *edged.Edge, segDir string, logger *slog.Logger, out io.Writer) error {
	select {
	case <-srv.Ready():
	case <-ctx.Done():
		return nil
	}
	apiURL := "http://" + srv.APIAddr().String()
	client, err := api.NewClient(apiURL, nil)
	if err != nil {
		return err
	}
	if _, err := client.CreateSource(ctx, api.NewSource{Name: cfg.Source, Description: "lmx demo test source", SegmentLen: 2}); err != nil {
		var se *api.StatusError
		if !errors.As(err, &se) || se.Status != http.StatusConflict {
			return fmt.Errorf("create demo source: %w", err)
		}
	}
	if _, err := client.SetStreaming(ctx, cfg.Source, true); err != nil {
		return fmt.Errorf("turn streaming on: %w", err)
	}
	pushURL := "http://" + edge.Addr().String() + "/v1/playlist"
	g, gctx := errgroup.WithContext(ctx)
	what := "the lmx demo clip (ffmpeg not found), looped"
	ffmpeg, lookErr := exec.LookPath("ffmpeg")
	if cfg.NoFFmpeg || lookErr != nil {
		if cfg.NoFFmpeg {
			what = "the lmx demo clip, looped"
		}
		p := &clipPusher{source: cfg.Source, dir: segDir, url: pushURL, hc: &http.Client{Timeout: 10 * time.Second}, every: time.Duration(clipSegmentSeconds * float64(time.Second))}
		g.Go(func() error { return p.run(gctx) })
	} else {
		what = "ffmpeg's test pattern (" + ffmpeg + ")"
		args := edged.FFmpegArgs(cfg.Source, segDir, pushURL, edged.LiveTestPattern())
		cmd := exec.CommandContext(gctx, ffmpeg, args...)
		cmd.Stderr = os.Stderr
		g.Go(func() error {
			err := cmd.Run()
			if gctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ffmpeg stopped: %v (try `lmx demo --no-ffmpeg`)", err)
		})
	}
	playback := srv.Config().PublicURL + "/v1/vod/live/" + cfg.Source + "/vid.m3u8"
	fmt.Fprintf(out, "lmx demo: control node at %s, edge %q at %s, source %q from %s\n", apiURL, edge.Name(), edge.Addr(), cfg.Source, what)
	if err := waitLive(gctx, playback, 45*time.Second); err != nil {
		if gctx.Err() != nil {
			return g.Wait()
		}
		return err
	}
	fmt.Fprintf(out, `
Live now. Watch it with any HLS player:
  ffplay %[1]s
  mpv %[1]s
  vlc %[1]s

Look around (in another terminal):
  lmx source ls --server %[2]s
  lmx edge ls --server %[2]s
  curl %[3]s/metrics

Ctrl-C stops everything.
`, playback, apiURL, apiURL)
	return g.Wait()
}

// waitLive polls the live playlist until it answers.
func waitLive(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("no live segments at %s after %s", url, limit)
}

// loopback returns 127.0.0.1:port, or a free loopback port when port is busy.
func loopback(port int) string {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return addr
	}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return addr
	}
	defer ln.Close()
	return ln.Addr().String()
}
