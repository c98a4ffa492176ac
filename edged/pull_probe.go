package edged

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// pullStopGrace is how long ffmpeg has after SIGTERM (it closes its last
// segment and pushes the playlist) before it is killed.
const pullStopGrace = 3 * time.Second

// execRunner runs the real ffmpeg and ffprobe, found in PATH.
type execRunner struct{}

// tools finds ffmpeg and ffprobe (beside it when ffmpeg is a path).
func (execRunner) tools() (ffmpeg, ffprobe string, err error) {
	ffmpeg, err = exec.LookPath("ffmpeg")
	if err != nil {
		return "", "", ErrNoFFmpeg
	}
	ffprobe = filepath.Join(filepath.Dir(ffmpeg), "ffprobe")
	if _, err := exec.LookPath(ffprobe); err != nil {
		if ffprobe, err = exec.LookPath("ffprobe"); err != nil {
			return "", "", ErrNoFFmpeg
		}
	}
	return ffmpeg, ffprobe, nil
}

// probe asks ffprobe which streams the camera sends, with the same input
// options as the pull (protocol whitelist, TCP for RTSP, I/O timeout).
func (r execRunner) probe(ctx context.Context, raw string) ([]probeStream, error) {
	_, ffprobe, err := r.tools()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-v", "error", "-hide_banner"}, pullInputArgs(raw)...)
	args = append(args, "-show_entries", "stream=codec_type,codec_name", "-of", "json", raw)
	cmd := exec.CommandContext(ctx, ffprobe, args...)
	cmd.SysProcAttr = pullSysProcAttr()
	cmd.WaitDelay = pullStopGrace
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &limitedBuffer{b: &stderr, max: 64 << 10}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no answer within the probe timeout")
		}
		if line := lastLine(stderr.String()); line != "" {
			return nil, errors.New(line)
		}
		return nil, err
	}
	var out struct {
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("ffprobe's answer: %v", err)
	}
	return out.Streams, nil
}

// run runs ffmpeg until it exits or ctx ends: then SIGTERM, and SIGKILL
// after pullStopGrace. It returns once the process is gone.
func (r execRunner) run(ctx context.Context, args []string, stderr func(string)) error {
	ffmpeg, _, err := r.tools()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.SysProcAttr = pullSysProcAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = pullStopGrace
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			stderr(strings.TrimRight(sc.Text(), "\r"))
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	if err := cmd.Start(); err != nil {
		pw.Close()
		<-lines
		return err
	}
	err = cmd.Wait()
	pw.Close()
	<-lines
	return err
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// limitedBuffer keeps the last bytes written up to max (ffprobe's errors
// come at the end).
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.b.Write(p)
	if l.b.Len() > l.max {
		rest := l.b.Bytes()[l.b.Len()-l.max/2:]
		nb := bytes.NewBuffer(append([]byte(nil), rest...))
		*l.b = *nb
	}
	return len(p), nil
}
