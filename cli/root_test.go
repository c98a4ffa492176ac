package cli

import (
	"context"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

func TestNoCommandIsUsageError(t *testing.T) {
	r := runCLI(t, nil)
	if r.code != 2 {
		t.Errorf("exit %d, want 2", r.code)
	}
	if r.stdout != "" {
		t.Errorf("usage went to stdout:\n%s", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "Usage: lmx <command>") || !strings.Contains(r.stderr, "\nlmx: expected one of ") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	r := runCLI(t, nil, "frobnicate")
	if r.code != 2 || !strings.HasSuffix(r.stderr, "lmx: unexpected argument frobnicate\n") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestMissingArgumentIsUsageError(t *testing.T) {
	r := runCLI(t, nil, "source", "show")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "Usage: lmx source show <source>") ||
		!strings.HasSuffix(r.stderr, "lmx: expected \"<source>\"\n") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestBadEnvIsUsageError(t *testing.T) {
	t.Setenv("LMX_LOG_LEVEL", "loud")
	r := runCLI(t, nil, "version")
	if r.code != 2 || !strings.Contains(r.stderr, "lmx: --log-level must be one of") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestHelpExitsZero(t *testing.T) {
	r := runCLI(t, nil, "--help")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: lmx <command>") || r.stderr != "" {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// realEnv is the production env with the test clock: commands get a real
// *api.Client for --server. The control node data dir it looks in is an
// empty one of the test's (LMX_DATA_DIR), not this machine's.
func realEnv(t *testing.T) env {
	t.Setenv("LMX_DATA_DIR", t.TempDir())
	e := defaultEnv()
	e.timing = testEnv(t, nil).timing
	return e
}

func TestUnreachableSaysWhatToDo(t *testing.T) {
	// Nothing listens on port 1; the real client says how to fix that.
	for _, tc := range []struct {
		name string
		env  string
		args []string
	}{
		{"flag", "", []string{"--server", "http://127.0.0.1:1", "source", "ls"}},
		{"env", "127.0.0.1:1", []string{"edge", "ls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("LMX_SERVER", tc.env)
			}
			r := runWith(context.Background(), realEnv(t), tc.args...)
			if r.code != 1 {
				t.Errorf("exit %d", r.code)
			}
			for _, want := range []string{
				"lmx: control node not reachable at http://127.0.0.1:1",
				"is `lmx controld` running? set --server or LMX_SERVER",
			} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

func TestBadServerAddress(t *testing.T) {
	r := runWith(context.Background(), realEnv(t), "--server", "ftp://x", "source", "ls")
	wantErr(t, r, 1, `server address "ftp://x": scheme must be http or https`)
}

func TestServerOnlyWhenNeeded(t *testing.T) {
	// testEnv(t, nil) fails the test if a command asks for a client, and
	// this one if it looks for a local control node.
	e := testEnv(t, nil)
	e.local = func() (string, api.LocalNode, string, error) {
		t.Error("looked for a local control node")
		return "", api.LocalNode{}, "", fs.ErrNotExist
	}
	for _, args := range [][]string{
		{"--server", "::bad::", "version"},
		{"--server", "::bad::", "completion", "bash"},
		{"--server", "::bad::", "source", "ls", "--help"},
		{"version"},
		{"token", "create", "--help"},
		{"source", "ls", "--token", "x", "--help"},
	} {
		if r := runWith(context.Background(), e, args...); r.code != 0 {
			t.Errorf("%q: exit %d: %s", args, r.code, r.stderr)
		}
	}
}

// TestBindings checks that a command can ask for each bound type, as the
// daemons do.
func TestBindings(t *testing.T) {
	fc := newFake()
	var root Root
	p, err := newParser(context.Background(), &dial{root: &root, env: testEnv(t, fc)}, &strings.Builder{}, &strings.Builder{}, BuildInfo{Version: "v9"})
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := p.Parse([]string{"--server", "http://ctl:8080", "--log-level", "debug", "version"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = kctx.Call(func(ctx context.Context, log *slog.Logger, out Stdout, c Client, tm Timing, bi BuildInfo) error {
		if ctx == nil || out.Writer == nil || c != fc || tm.Now().IsZero() || bi.Version != "v9" {
			t.Errorf("bad bindings: %v %v %v %v %v", ctx, out, c, tm, bi)
		}
		if !log.Enabled(ctx, slog.LevelDebug) {
			t.Error("--log-level debug did not reach the logger")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if root.Server != "http://ctl:8080" {
		t.Errorf("server %q", root.Server)
	}
}

func TestTimingDefaults(t *testing.T) {
	tm := defaultEnv().timing
	if tm.Poll != 250*time.Millisecond || tm.Redraw != 2*time.Second {
		t.Errorf("%+v", tm)
	}
}
