package edged

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/lmx-video/lmx/internal/netaddr"
)

// RunMain starts an edge agent, prints how to push to it, and serves until
// ctx ends. It is what both `lmx edged` and `lmx-edge` run.
func RunMain(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer, version string) error {
	cfg.OwnProcess = true
	e, err := newEdge(ctx, cfg, logger, version)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "lmx edge %q %s: control node %s, segments uploaded to %s\n", e.cfg.Name, version, e.cfg.MQTT, e.cfg.Ingest)
	fmt.Fprintf(out, "  %s; %s\n", e.cfg.linkSummary(), e.cfg.authSummary())
	if len(e.cfg.AllowDirs) == 0 {
		fmt.Fprintf(out, "No --allow-dir: this edge pulls the cameras the control node gives it (lmx source add NAME --pull URL --edge %s) and takes no ffmpeg pushes.\n", e.cfg.Name)
	} else {
		fmt.Fprintf(out, "Push a camera or file with:\n%s\n", FFmpegCommand("camera-0", e.cfg.AllowDirs[0], pushURL(e.Addr())))
	}
	return e.Run(ctx)
}

// linkSummary says how the link to the control node is protected.
func (c *Config) linkSummary() string {
	mqttTLS, ingestTLS := isTLS(c.MQTT), isTLS(c.Ingest)
	switch {
	case c.CAPin != "":
		return "TLS pinned to the control node's CA " + c.CAPin
	case mqttTLS && ingestTLS:
		return "TLS verified against the system's roots (no CA pin)"
	case mqttTLS:
		return "MQTT over TLS (system roots), segments not encrypted"
	case ingestTLS:
		return "MQTT not encrypted, segments over TLS (system roots)"
	}
	return "not encrypted"
}

// authSummary says how the edge authenticates, never with what.
func (c *Config) authSummary() string {
	var s string
	switch {
	case c.Credential == "":
		s = "no credential (the control node must run with --auth none)"
	case c.credentialFile != "":
		s = "authenticated with the credential in " + c.credentialFile
	default:
		s = "authenticated with its credential"
	}
	if c.MQTTPassword != "" {
		if c.Credential != "" {
			s = "uploads " + s
		}
		s += "; MQTT as user " + strconv.Quote(c.mqttUsername()) + " with --mqtt-password"
	}
	return s
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

// LiveTestPattern is the ffmpeg input flags of a live 720p test pattern,
// what FFmpegCommand and the demo push when no camera is at hand.
func LiveTestPattern() []string {
	return []string{"-re", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25"}
}

// FFmpegCommand is FFmpegArgs with LiveTestPattern as a shell command line
// (bash, zsh): every argument quoted as needed, broken into a few lines.
func FFmpegCommand(source, dir, url string) string {
	return shellCommand(append([]string{"ffmpeg"}, FFmpegArgs(source, dir, url, LiveTestPattern())...))
}

// lineBefore are the flags FFmpegCommand starts a new line with.
var lineBefore = map[string]bool{"-c:v": true, "-strftime": true, "-hls_segment_filename": true, "-headers": true, "-method": true}

// shellCommand joins args into one command line a shell splits back into
// args, continuing it on a new line before each flag in lineBefore.
func shellCommand(args []string) string {
	var b strings.Builder
	for i, a := range args {
		switch {
		case i == 0:
		case lineBefore[a]:
			b.WriteString(" \\\n  ")
		default:
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell: as it is when it holds only
// characters no shell treats specially, in $'...' when it holds control
// characters (the -headers value's CR LF), else in '...'.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	plain, control := true, false
	for _, c := range []byte(s) {
		switch {
		case c < 0x20 || c == 0x7f:
			control, plain = true, false
		case !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_@%+=:,./-", c) >= 0):
			plain = false
		}
	}
	switch {
	case plain:
		return s
	case !control:
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for _, c := range []byte(s) {
		switch c {
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('\'')
	return b.String()
}
