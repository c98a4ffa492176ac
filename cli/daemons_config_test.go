package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/controld"
	"github.com/lmx-video/lmx/edged"
	"github.com/lmx-video/lmx/internal/bytesize"
)

// parseDaemon parses an lmx command line as run does, without running it,
// and returns the command tree it filled.
func parseDaemon(t *testing.T, args ...string) (*Root, error) {
	t.Helper()
	d := &dial{root: &Root{}, env: testEnv(t, nil)}
	p, err := newParser(context.Background(), d, io.Discard, io.Discard, BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Parse(args)
	return d.root, err
}

// configFileAt writes content to a configuration file and makes it the
// default one for the test.
func configFileAt(t *testing.T, target *string, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lmx.yaml")
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	old := *target
	*target = path
	t.Cleanup(func() { *target = old })
	return path
}

// TestControldConfigPrecedence: lmx controld takes a flag over its
// variable, the variable over /etc/lmx/controld.yaml, the file over the
// default, for a string, a list, a boolean and a byte size; with no file
// at all its flags are as they were.
func TestControldConfigPrecedence(t *testing.T) {
	data := t.TempDir()
	configFileAt(t, &controldConfigFile, "data-dir: "+data+"\nhostname: [video.example.net, 192.0.2.10]\nno-auto-register: true\ncache-size: 512MiB\nlog-level: warn\n")
	type got struct {
		dataDir  string
		hosts    []string
		noAuto   bool
		cache    bytesize.Size
		logLevel string
	}
	read := func(r *Root) got {
		c := r.Controld.Config
		return got{c.DataDir, c.Hostnames, c.NoAutoRegister, c.CacheSize, r.LogLevel}
	}
	fromFile := got{data, []string{"video.example.net", "192.0.2.10"}, true, 512 << 20, "warn"}

	r, err := parseDaemon(t, "controld")
	if err != nil || !reflect.DeepEqual(read(r), fromFile) {
		t.Errorf("file: %+v, %v", read(r), err)
	}

	envData := t.TempDir()
	t.Setenv("LMX_DATA_DIR", envData)
	t.Setenv("LMX_HOSTNAME", "env.example")
	t.Setenv("LMX_NO_AUTO_REGISTER", "false")
	t.Setenv("LMX_CACHE_SIZE", "64MiB")
	t.Setenv("LMX_LOG_LEVEL", "error")
	r, err = parseDaemon(t, "controld")
	if want := (got{envData, []string{"env.example"}, false, 64 << 20, "error"}); err != nil || !reflect.DeepEqual(read(r), want) {
		t.Errorf("environment: %+v, %v\nwant %+v", read(r), err, want)
	}

	flagData := t.TempDir()
	r, err = parseDaemon(t, "--log-level", "debug", "controld", "--data-dir", flagData, "--hostname", "flag.example", "--no-auto-register", "--cache-size", "32MiB")
	if want := (got{flagData, []string{"flag.example"}, true, 32 << 20, "debug"}); err != nil || !reflect.DeepEqual(read(r), want) {
		t.Errorf("flags: %+v, %v\nwant %+v", read(r), err, want)
	}

	// No file: the defaults (DefaultConfig, once validated, as kong does).
	for _, k := range []string{"LMX_DATA_DIR", "LMX_HOSTNAME", "LMX_NO_AUTO_REGISTER", "LMX_CACHE_SIZE", "LMX_LOG_LEVEL"} {
		os.Unsetenv(k)
	}
	controldConfigFile = filepath.Join(t.TempDir(), "absent.yaml")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	r, err = parseDaemon(t, "controld")
	want := controld.DefaultConfig()
	if verr := want.Validate(); verr != nil {
		t.Fatal(verr)
	}
	if err != nil || !reflect.DeepEqual(r.Controld.Config, want) {
		t.Errorf("no file: %+v, %v\nwant %+v", r.Controld.Config, err, want)
	}
}

// TestEdgedConfigPrecedence: the same for lmx edged and a duration, and
// the file named with --config or LMX_CONFIG rather than found.
func TestEdgedConfigPrecedence(t *testing.T) {
	segments, state := t.TempDir(), t.TempDir()
	file := filepath.Join(t.TempDir(), "edge.yaml")
	content := "controld: ctl.example\nname: cam-gw-1\nallow-dir: " + segments + "\nstate-dir: " + state + "\nbuffer: 60s\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	read := func(r *Root) (string, time.Duration) { return r.Edged.Config.Name, r.Edged.Config.Buffer }

	r, err := parseDaemon(t, "edged", "--config", file)
	if n, b := read(r); err != nil || n != "cam-gw-1" || b != time.Minute || !reflect.DeepEqual(r.Edged.AllowDirs, []string{segments}) {
		t.Errorf("--config: %q %v %v, %v", n, b, r.Edged.AllowDirs, err)
	}
	t.Setenv("LMX_CONFIG", file)
	t.Setenv("LMX_EDGE_BUFFER", "30s")
	r, err = parseDaemon(t, "edged")
	if n, b := read(r); err != nil || n != "cam-gw-1" || b != 30*time.Second {
		t.Errorf("LMX_CONFIG and LMX_EDGE_BUFFER: %q %v, %v", n, b, err)
	}
	r, err = parseDaemon(t, "edged", "--name", "cam-gw-2", "--buffer", "10s")
	if n, b := read(r); err != nil || n != "cam-gw-2" || b != 10*time.Second {
		t.Errorf("flags: %q %v, %v", n, b, err)
	}
	os.Unsetenv("LMX_CONFIG")

	_, err = parseDaemon(t, "edged", "--config", file+".missing")
	if want := "the configuration file (--config) " + file + ".missing: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing --config: %v\nwant %s", err, want)
	}
	configFileAt(t, &edgedConfigFile, "allow-dirs: [/srv/hls]\n")
	_, err = parseDaemon(t, "edged")
	if want := `:1: unknown key "allow-dirs": did you mean "allow-dir"? (the keys are the long flag names of lmx edged --help)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("unknown key: %v\nwant …%s", err, want)
	}
	// Other commands never read the daemons' files.
	if _, err := parseDaemon(t, "version"); err != nil {
		t.Errorf("version: %v", err)
	}
}

// TestPrintConfig: --print-config prints every setting with where it came
// from, secrets redacted, and starts nothing (no data dir is made).
func TestPrintConfig(t *testing.T) {
	data := filepath.Join(t.TempDir(), "never-made")
	file := configFileAt(t, &controldConfigFile, `# the machine's settings
data-dir: `+data+`
hostname: [video.example.net]
broker: mqtt://controld:url-secret@broker.example:1883
admin-group: lmx
`)
	t.Setenv("LMX_BROKER_PASSWORD", "env-secret")
	t.Setenv("LMX_CACHE_SIZE", "512MiB")
	r := runCLI(t, nil, "controld", "--print-config", "--auth", "none")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	want := `# lmx controld: the configuration it would run with.
# Configuration file: ` + file + `
# Precedence: flag > environment > file > default.

log-level: info # default
log-format: text # default
data-dir: ` + data + ` # file ` + file + `:2
api-listen: :8080 # default
`
	if !strings.HasPrefix(r.stdout, want) {
		t.Errorf("--print-config starts:\n%s\nwant:\n%s", r.stdout, want)
	}
	for _, line := range []string{
		"cache-size: 512MiB # env LMX_CACHE_SIZE",
		"auth: none # flag",
		"hostname: [video.example.net] # file " + file + ":3",
		"broker: mqtt://controld:xxxxx@broker.example:1883 # file " + file + ":4",
		"broker-password: <redacted> # env LMX_BROKER_PASSWORD",
		"admin-group: lmx # file " + file + ":5",
		"tls: auto # default",
	} {
		if !strings.Contains(r.stdout, "\n"+line+"\n") {
			t.Errorf("--print-config lacks %q", line)
		}
	}
	for _, no := range []string{"url-secret", "env-secret", "server:", "config:", "help:"} {
		if strings.Contains(r.stdout, no) {
			t.Errorf("--print-config shows %q:\n%s", no, r.stdout)
		}
	}
	if _, err := os.Stat(data); err == nil {
		t.Error("--print-config made the data dir")
	}

	// lmx edged prints even what it could not start with (no control
	// node, no --allow-dir), its join token redacted.
	os.Unsetenv("LMX_BROKER_PASSWORD")
	r = runCLI(t, nil, "edged", "--print-config", "--join", "lmxjoin1.join-secret")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "\njoin: <redacted> # flag\n") ||
		!strings.Contains(r.stdout, "\nallow-dir: [] # default\n") || strings.Contains(r.stdout, "join-secret") {
		t.Errorf("edged: exit %d, stderr %s\n%s", r.code, r.stderr, r.stdout)
	}
}

// TestSecretsMarked: every flag of the daemons that holds a secret is
// tagged secret:"", so --print-config never shows it.
func TestSecretsMarked(t *testing.T) {
	for _, v := range []any{&controld.Config{}, &edged.Config{}} {
		var flags []*kong.Flag
		p, err := kong.New(v)
		if err != nil {
			t.Fatal(err)
		}
		flags = p.Model.Flags
		for _, f := range flags {
			name := f.Name
			looksSecret := false
			for _, word := range []string{"password", "token", "join", "secret", "credential"} {
				looksSecret = looksSecret || strings.Contains(name, word)
			}
			if looksSecret && !f.Tag.Has("secret") {
				t.Errorf("%T: --%s holds a secret: tag it secret:\"\"", v, name)
			}
		}
	}
}
