package edged

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/lmx-video/lmx/internal/netaddr"
)

// RunMain starts an edge agent, prints how to push to it, and serves until
// ctx ends. It is what both `lmx edged` and `lmx-edge` run.
func RunMain(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer, version string) error {
	cfg.OwnProcess = true
	e, err := New(cfg, logger, version)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "lmx edge %q %s: control node %s, segments uploaded to %s\n", e.cfg.Name, version, e.cfg.MQTT, e.cfg.Ingest)
	fmt.Fprintf(out, "Push a camera or file with:\n%s\n", FFmpegCommand("camera-0", e.cfg.AllowDirs[0], pushURL(e.Addr())))
	return e.Run(ctx)
}

// pushURL is the playlist endpoint ffmpeg on this machine posts to.
func pushURL(a net.Addr) string { return "http://" + netaddr.Dial(a.String()) + "/v1/playlist" }

// FFmpegArgs are LiveMix's ffmpeg flags that push input to an edge: HLS with
// 2 s segments written to dir, each new playlist POSTed to url.
func FFmpegArgs(source, dir, url string, input []string) []string {
	args := append([]string{"-hide_banner", "-loglevel", "error"}, input...)
	return append(args,
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-an",
		"-strftime", "1",
		"-f", "hls", "-hls_time", "2", "-hls_list_size", "5",
		"-hls_flags", "delete_segments+independent_segments",
		"-hls_segment_filename", dir+"/"+source+"-%s.ts",
		"-headers", "Video-Source-Name: "+source+"\r\nMPEG-TS-URI-Prefix: file://"+dir+"\r\n",
		"-method", "POST", url)
}

// FFmpegCommand is FFmpegArgs as a shell line with a live test pattern as input.
func FFmpegCommand(source, dir, url string) string {
	return fmt.Sprintf(`ffmpeg -re -f lavfi -i testsrc=size=1280x720:rate=25 \
  -c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p -g 50 -sc_threshold 0 -an \
  -strftime 1 -f hls -hls_time 2 -hls_list_size 5 -hls_flags delete_segments+independent_segments \
  -hls_segment_filename '%s/%s-%%s.ts' \
  -headers $'Video-Source-Name: %s\r\nMPEG-TS-URI-Prefix: file://%s\r\n' \
  -method POST %s`, dir, source, source, dir, url)
}
