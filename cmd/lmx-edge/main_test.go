package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/internal/netaddr"
	"github.com/lmx-video/lmx/internal/syncbuf"
)

var update = flag.Bool("update", false, "rewrite testdata/help.golden from the current --help output")

func TestMain(m *testing.M) {
	// No test may find, or leave, an edge identity in the state dir of the
	// user who runs the tests: the default state dir is a fresh one.
	dir, err := os.MkdirTemp("", "lmx-edge-test-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("STATE_DIRECTORY", dir)
	// Nor the machine's configuration file: the default one is absent.
	configFile = filepath.Join(dir, "absent", "edged.yaml")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// runArgs runs the command line args to its end.
func runArgs(t *testing.T, args ...string) result {
	t.Helper()
	clearEnv(t)
	var stdout, stderr syncbuf.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// clearEnv unsets the LMX_* variables the flags read, so the test run's
// environment cannot change what is parsed.
func clearEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "LMX_") {
			t.Setenv(name, "") // restored after the test
			os.Unsetenv(name)
		}
	}
}

func TestHelp(t *testing.T) {
	// kong wraps help to the terminal width, read from COLUMNS when the
	// output is not a terminal.
	t.Setenv("COLUMNS", "80")
	configFile = defaultConfigFile // as --help names it; --help reads no file
	defer func() { configFile = filepath.Join(os.Getenv("STATE_DIRECTORY"), "absent", "edged.yaml") }()
	r := runArgs(t, "--help")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	file := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/lmx-edge -update to create it)", err)
	}
	if r.stdout != string(want) {
		t.Errorf("--help differs from %s (if the change is meant, run go test ./cmd/lmx-edge -update):\n%s", file, r.stdout)
	}
	for _, f := range []string{"--name", "--listen", "--controld", "--mqtt", "--ingest", "--join", "--state-dir", "--mqtt-username", "--mqtt-password", "--allow-dir", "--buffer", "--buffer-bytes", "--heartbeat", "--log-level", "--version", "--config", "--print-config"} {
		if !strings.Contains(r.stdout, "  "+f+"=") && !strings.Contains(r.stdout, "  "+f+"  ") {
			t.Errorf("--help does not list %s", f)
		}
	}
	if strings.Contains(r.stdout, "--token") {
		t.Error("--help lists the removed --token")
	}
}

// TestConfigFile: the agent reads its flags from /etc/lmx/edged.yaml (or
// --config), under the environment and the command line, and
// --print-config shows the result without starting anything.
func TestConfigFile(t *testing.T) {
	segments := t.TempDir()
	file := filepath.Join(t.TempDir(), "edged.yaml")
	content := "name: cam-gw-1\ncontrold: ctl.example\nallow-dir: [" + segments + "]\nbuffer: 30s\nmqtt-password: pw-in-file\nlog-level: warn\n"
	if err := os.WriteFile(file, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	old := configFile
	configFile = file
	defer func() { configFile = old }()

	clearEnv(t)
	t.Setenv("LMX_EDGE_BUFFER", "45s")
	var stdout, stderr syncbuf.Buffer
	code := run(context.Background(), []string{"--print-config", "--name", "cam-gw-2"}, &stdout, &stderr)
	out := stdout.String()
	if code != 0 || stderr.String() != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	for _, want := range []string{
		"# Configuration file: " + file + "\n",
		"\nname: cam-gw-2 # flag\n",
		"\ncontrold: ctl.example # file " + file + ":2\n",
		"\nallow-dir: [" + segments + "] # file " + file + ":3\n",
		"\nbuffer: 45s # env LMX_EDGE_BUFFER\n",
		"\nmqtt-password: <redacted> # file " + file + ":5\n",
		"\nlog-level: warn # file " + file + ":6\n",
		"\nheartbeat: 5s # default\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw-in-file") || strings.Contains(out, "version") || strings.Contains(out, "print-config:") {
		t.Errorf("--print-config shows too much:\n%s", out)
	}

	// A mistyped key stops the agent with the file, line and the flag meant.
	bad := filepath.Join(t.TempDir(), "edged.yaml")
	if err := os.WriteFile(bad, []byte("allow-dirs: [/srv/hls]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runArgs(t, "--config", bad)
	if want := `lmx-edge: error: ` + bad + `:1: unknown key "allow-dirs": did you mean "allow-dir"? (the keys are the long flag names of lmx-edge --help)`; r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q\nwant %s", r.code, r.stderr, want)
	}
	r = runArgs(t, "--config", bad+".missing")
	if r.code != 2 || !strings.Contains(r.stderr, "the configuration file (--config) "+bad+".missing: no such file or directory") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestTokenGone: the shared token of earlier releases, as a flag or in the
// environment, is refused with what replaced it.
func TestTokenGone(t *testing.T) {
	const want = "lmx-edge: error: --token (LMX_EDGE_TOKEN) is gone: register the edge with `lmx edge add NAME` on the control node and start it with --join"
	r := runArgs(t, "--name", "e1", "--controld", "ctl.example", "--allow-dir", t.TempDir(), "--token", "s3cret")
	if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "s3cret") {
		t.Errorf("--token: exit %d, stderr %q", r.code, r.stderr)
	}
	clearEnv(t)
	t.Setenv("LMX_EDGE_TOKEN", "s3cret")
	var stdout, stderr syncbuf.Buffer
	code := run(context.Background(), []string{"--name", "e1", "--controld", "ctl.example", "--allow-dir", t.TempDir()}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), want) {
		t.Errorf("LMX_EDGE_TOKEN: exit %d, stderr %q", code, stderr.String())
	}
}

// TestBadJoin: a malformed join token is a usage error that does not
// repeat the token.
func TestBadJoin(t *testing.T) {
	const bad = "lmxjoin1.eyJlZGdlIjoiY2FtIn0-not-a-token"
	r := runArgs(t, "--join", bad, "--allow-dir", t.TempDir())
	if r.code != 2 || !strings.Contains(r.stderr, "lmx-edge: error: --join: bad join token") || strings.Contains(r.stderr, bad) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := runArgs(t, "--version")
	want := "lmx-edge dev (commit "
	if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, want) ||
		!strings.HasSuffix(r.stdout, ", "+runtime.Version()+", "+runtime.GOOS+"/"+runtime.GOARCH+")\n") {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q…", r.code, r.stdout, r.stderr, want)
	}
}

// TestVersionFromLDFlags builds the binary the way a release does and checks
// that --version prints what -ldflags set.
func TestVersionFromLDFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lmx-edge")
	}
	bin := filepath.Join(t.TempDir(), "lmx-edge")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123abcd", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "lmx-edge v9.8.7 (commit 0123abcd, "; !strings.HasPrefix(string(out), want) {
		t.Errorf("--version = %q, want %q…", out, want)
	}
}

func TestBadFlag(t *testing.T) {
	r := runArgs(t, "--controld", "ctl.example", "--bogus")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "lmx-edge: error: unknown flag --bogus") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestMissingControld: without --controld (or --join) the agent says which
// flag is missing. Like every flag kong rejects, it is a usage error (exit
// 2), as with `lmx edged`. (No --allow-dir is fine: an edge that only pulls
// cameras needs none.)
func TestMissingControld(t *testing.T) {
	r := runArgs(t, "--name", "e1", "--allow-dir", t.TempDir())
	if r.code != 2 || !strings.Contains(r.stderr, "no control node given") {
		t.Errorf("no --controld: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestStartFails: a flag set kong accepts that the agent cannot start with
// (its port is taken) is a failed run, exit 1.
func TestStartFails(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	r := runArgs(t, "--name", "e1", "--controld", "127.0.0.1", "--allow-dir", t.TempDir(), "--listen", taken.Addr().String())
	if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "lmx-edge: ingest listener: ") || !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestRunUntilCancelled starts the agent (with no control node to reach),
// waits for the push command it prints, and stops it as Ctrl-C does.
func TestRunUntilCancelled(t *testing.T) {
	clearEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--name", "e1", "--controld", "127.0.0.1:1", "--allow-dir", dir, "--listen", listen, "--log-level", "error"}, &stdout, &stderr)
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stdout.String(), "-method POST"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no push command after 10 s:\n%s\n%s", stdout.String(), stderr.String())
		}
	}
	out := stdout.String()
	for _, want := range []string{
		fmt.Sprintf(`lmx edge "e1" dev: control node mqtt://127.0.0.1:1, segments uploaded to http://127.0.0.1:%d`, netaddr.PlaybackPort),
		"  not encrypted; no credential (the control node must run with --auth none)\n",
		"-hls_segment_filename " + dir + "/camera-0-%s.ts",
		"-method POST http://" + listen + "/v1/playlist",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after a cancel, stderr:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the agent did not stop within 15 s of its cancel")
	}
}

// TestLinksNoControlNodeDependencies keeps the edge binary small: none of
// the control node's or the TUI's dependencies are linked in.
func TestLinksNoControlNodeDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !strings.Contains(string(out), "github.com/lmx-video/lmx/edged") {
		t.Fatalf("go list -deps listed too little:\n%s", out)
	}
	for _, dep := range deps {
		for _, banned := range []string{
			"github.com/mochi-mqtt/",
			"modernc.org/sqlite",
			"github.com/minio/minio-go",
			"github.com/charmbracelet/bubbletea",
			"charm.land/bubbletea",
			"github.com/coocood/freecache",
			"github.com/prometheus/",
			"github.com/valyala/fasthttp",
		} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("lmx-edge links %s", dep)
			}
		}
	}
}
