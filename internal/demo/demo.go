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
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld"
	"github.com/lmx-video/lmx/edged"
	"github.com/lmx-video/lmx/internal/netaddr"
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

// Run runs the demo until ctx ends. Whatever it started, it stops before it
// returns, on every path: the test source, the edge and the control node
// with their listeners, and a temporary data directory.
func Run(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer, version string) error {
	return run(ctx, cfg, logger, out, version, edged.New)
}

// newEdgeFunc makes the demo's edge: edged.New, or in tests one that fails.
type newEdgeFunc func(edged.Config, *slog.Logger, string) (*edged.Edge, error)

// run is Run with the edge made by newEdge. Ended by ctx, at any point of
// the start too, it says so and returns nil.
func run(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer, version string, newEdge newEdgeFunc) error {
	err := runDemo(ctx, cfg, logger, out, version, newEdge)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		fmt.Fprintln(out, "\nlmx demo stopped.")
		return nil
	}
	return err
}

func runDemo(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer, version string, newEdge newEdgeFunc) error {
	dataDir := cfg.DataDir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "lmx-demo-")
		if err != nil {
			return err
		}
		// Deferred first, so it runs last: after everything that writes
		// into it has stopped.
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	segDir, err := filepath.Abs(filepath.Join(dataDir, "segments"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(segDir, 0o755); err != nil {
		return err
	}

	ccfg := controld.DefaultConfig()
	ccfg.DataDir = filepath.Join(dataDir, "controld")
	ccfg.APIListen = loopback(cfg.APIPort)
	ccfg.VODListen = loopback(cfg.VODPort)
	ccfg.MQTTListen = loopback(cfg.MQTTPort)
	srv, err := controld.New(ctx, ccfg, logger.With("node", "controld"), version)
	if err != nil {
		return fmt.Errorf("demo control node: %w", err)
	}
	// From here on the control node holds its listeners and its store:
	// every return below goes through node.stop.
	node := startControlNode(srv)
	select {
	case <-srv.Ready():
	case <-node.done:
		return fmt.Errorf("demo control node: %w", node.stop())
	case <-ctx.Done():
		return node.stop()
	}
	client, err := adminClient(srv)
	if err != nil {
		return errors.Join(err, node.stop())
	}

	ecfg := edged.DefaultConfig()
	ecfg.Name = "demo-edge"
	ecfg.Listen = loopback(cfg.EdgePort)
	ecfg.AllowDirs = []string{segDir}
	if srv.AuthOn() {
		// As on real machines: the edge is added on the control node and
		// joins with the token that prints.
		rep, err := client.AddEdge(ctx, api.NewEdge{Name: ecfg.Name, Host: "127.0.0.1"})
		if err != nil {
			return errors.Join(fmt.Errorf("demo edge: lmx edge add: %w", err), node.stop())
		}
		ecfg.Join = rep.JoinToken
	} else {
		ecfg.MQTT = "mqtt://" + netaddr.Dial(srv.MQTTAddr().String())
		ecfg.Ingest = "http://" + netaddr.Dial(srv.VODAddr().String())
	}
	// A state dir of its own: the demo's edge never takes the identity of
	// an edge this machine has joined.
	ecfg.StateDir = filepath.Join(dataDir, "edge")
	// Beside a control node in one process: a smaller ring buffer, and a
	// 2 s heartbeat so `lmx edge ls` is fresh.
	ecfg.BufferBytes = 64 << 20
	ecfg.Heartbeat = 2 * time.Second
	edge, err := newEdge(ecfg, logger.With("node", "edged"), version)
	if err != nil {
		return errors.Join(fmt.Errorf("demo edge: %w", err), node.stop())
	}

	// The edge and the test source stop first, then the control node, as
	// on real machines: the edge says goodbye while the broker still listens.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return edge.Run(gctx) })
	g.Go(func() error { return drive(gctx, cfg, srv, client, edge, segDir, out) })
	g.Go(func() error {
		select {
		case <-node.done:
			if node.err != nil {
				return fmt.Errorf("demo control node: %w", node.err)
			}
			return errors.New("demo control node stopped")
		case <-gctx.Done():
			return nil
		}
	})
	err = g.Wait()
	if serr := node.stop(); err == nil && serr != nil {
		err = fmt.Errorf("demo control node: %w", serr)
	}
	return err
}

// controlNode is a control node New has made, served until stop.
type controlNode struct {
	srv    *controld.Server
	cancel context.CancelFunc
	done   chan struct{} // closed once Run has returned err
	err    error
}

func startControlNode(srv *controld.Server) *controlNode {
	ctx, cancel := context.WithCancel(context.Background())
	n := &controlNode{srv: srv, cancel: cancel, done: make(chan struct{})}
	go func() {
		n.err = srv.Run(ctx)
		close(n.done)
	}()
	return n
}

// stop stops the control node and waits until Run has returned: Run is what
// closes the listeners, the broker and the store New opened, on every path
// (also when stopped before it serves). It may be called more than once.
func (n *controlNode) stop() error {
	n.cancel()
	<-n.done
	return n.err
}

// drive creates the source, turns streaming on, starts the test source and
// prints where to watch once the first segments are live. It returns once
// the test source has stopped.
func drive(ctx context.Context, cfg Config, srv *controld.Server, client *api.Client, edge *edged.Edge, segDir string, out io.Writer) error {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	apiURL := srv.APIURL()
	if _, err := client.CreateSource(ctx, api.NewSource{Name: cfg.Source, Description: "lmx demo test source", SegmentLen: 2}); err != nil {
		var se *api.StatusError
		if !errors.As(err, &se) || se.Status != http.StatusConflict {
			return fmt.Errorf("create demo source: %w", err)
		}
	}
	if _, err := client.SetStreaming(ctx, cfg.Source, true); err != nil {
		return fmt.Errorf("turn streaming on: %w", err)
	}
	pushURL := "http://" + netaddr.Dial(edge.Addr().String()) + "/v1/playlist"
	g, gctx := errgroup.WithContext(ctx)
	what := "the lmx demo clip (ffmpeg not found), looped"
	ffmpeg, lookErr := exec.LookPath("ffmpeg")
	if cfg.NoFFmpeg || lookErr != nil {
		if cfg.NoFFmpeg {
			what = "the lmx demo clip, looped"
		}
		p := &clipPusher{source: cfg.Source, dir: segDir, url: pushURL, hc: hc, every: time.Duration(clipSegmentSeconds * float64(time.Second))}
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
	// A signed URL (with access control on): it plays as it is, for a day.
	grant, err := client.SourceGrant(ctx, cfg.Source, 24*time.Hour)
	if err != nil {
		return fmt.Errorf("demo playback URL: %w", err)
	}
	playback := grant.URL
	look := "lmx"
	if path, _ := srv.AdminTokenFile(); path != "" {
		look = `LMX_TOKEN="$(cat ` + path + `)" lmx`
	}
	fmt.Fprintf(out, "lmx demo: control node at %s, edge %q at %s, source %q from %s\n", apiURL, edge.Name(), edge.Addr(), cfg.Source, what)
	g.Go(func() error {
		if err := waitLive(gctx, hc, playback, 45*time.Second); err != nil {
			if gctx.Err() != nil {
				return nil
			}
			return err
		}
		fmt.Fprintf(out, `
Live now. Watch it with any HLS player (the URL is signed: it plays as it is):
  ffplay %[1]s
  mpv %[1]s
  vlc %[1]s

Look around (in another terminal):
  %[3]s source ls --server %[2]s
  %[3]s edge ls --server %[2]s
  %[3]s tui --server %[2]s

Ctrl-C stops everything.
`, playback, apiURL, look)
		return nil
	})
	return g.Wait()
}

// adminClient is a management API client of srv with its admin token
// (none with --auth none).
func adminClient(srv *controld.Server) (*api.Client, error) {
	var tok string
	if path, _ := srv.AdminTokenFile(); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("demo admin token: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	return api.NewClientWith(srv.APIURL(), api.ClientOptions{Token: tok})
}

// waitLive polls the live playlist until it answers.
func waitLive(ctx context.Context, hc *http.Client, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
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
