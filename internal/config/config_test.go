package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// size is a flag type read from text, as the daemons' byte sizes are.
type size int64

func (s *size) UnmarshalText(b []byte) error {
	t := string(b)
	mult := int64(1)
	if n, ok := strings.CutSuffix(t, "GiB"); ok {
		t, mult = n, 1<<30
	}
	var v int64
	if _, err := fmt.Sscan(t, &v); err != nil {
		return fmt.Errorf("size %q: want a number of bytes like 2GiB", string(b))
	}
	*s = size(v * mult)
	return nil
}

func (s size) String() string {
	if s != 0 && s%(1<<30) == 0 {
		return fmt.Sprintf("%dGiB", s>>30)
	}
	return fmt.Sprint(int64(s))
}

// daemon is a daemon's flags, as controld's and edged's are laid out.
type daemon struct {
	Name       string        `name:"name" env:"T_NAME" default:"dflt" help:"A string."`
	Hosts      []string      `name:"hostname" env:"T_HOSTNAME" sep:"," help:"A list."`
	Verbose    bool          `name:"verbose" env:"T_VERBOSE" help:"A boolean."`
	Wait       time.Duration `name:"wait" env:"T_WAIT" default:"5s" help:"A duration."`
	Retain     size          `name:"retain-size" env:"T_RETAIN_SIZE" default:"1GiB" help:"A size."`
	Count      int           `name:"count" default:"3" help:"A number."`
	Broker     string        `name:"broker" env:"T_BROKER" help:"A URL."`
	Password   string        `name:"broker-password" env:"T_BROKER_PASSWORD" secret:"" help:"A secret."`
	Join       string        `name:"join" env:"T_JOIN" secret:"" help:"Another secret."`
	Removed    string        `name:"token" hidden:"" secret:"" help:"A removed flag."`
	NoAutoRegs bool          `name:"no-auto-register" help:"Another boolean."`
}

// app is a program with global flags and the daemon as a command, as lmx is.
type app struct {
	Server   string `name:"server" env:"T_SERVER" config:"-" help:"No setting of the daemon."`
	LogLevel string `name:"log-level" env:"T_LOG_LEVEL" default:"info" help:"Log level."`

	Daemon struct {
		daemon `embed:""`
		Flags  `embed:""`
	} `cmd:"" help:"Run the daemon."`
	Other struct {
		Thing string `name:"thing" help:"A flag of another command."`
	} `cmd:"" help:"Do something else."`
}

type outcome struct {
	app    app
	stdout string
	exited int // -1 when the parse did not exit
	err    error
}

// parse parses args with defaultFile as the config_file variable and env
// set (and the T_* and LMX_CONFIG variables not in env unset).
func parse(t *testing.T, defaultFile string, env map[string]string, args ...string) outcome {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "T_") || k == "LMX_CONFIG" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	type exit int
	o := outcome{exited: -1}
	var stdout bytes.Buffer
	p, err := kong.New(&o.app,
		kong.Name("app"),
		kong.Vars{"config_file": defaultFile},
		kong.Writers(&stdout, &stdout),
		kong.Exit(func(code int) { panic(exit(code)) }))
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				code, ok := r.(exit)
				if !ok {
					panic(r)
				}
				o.exited = int(code)
			}
		}()
		_, o.err = p.Parse(args)
	}()
	o.stdout = stdout.String()
	return o
}

// writeFile writes a configuration file in a new directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lmx.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func nowhere(t *testing.T) string { return filepath.Join(t.TempDir(), "absent.yaml") }

// TestPrecedence: a flag beats the environment, which beats the file, which
// beats the default, for a string, a list, a boolean, a duration and a
// size, whether the file is the default one or named with --config.
func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
name: from-file
hostname: [a.example, b.example]
verbose: true
wait: 60s
retain-size: 200GiB
log-level: debug
`)
	type want struct {
		name    string
		hosts   []string
		verbose bool
		wait    time.Duration
		retain  size
	}
	fromFile := want{"from-file", []string{"a.example", "b.example"}, true, time.Minute, 200 << 30}
	for _, tc := range []struct {
		what string
		def  string
		env  map[string]string
		args []string
		want want
	}{
		{"defaults", nowhere(t), nil, nil, want{"dflt", nil, false, 5 * time.Second, 1 << 30}},
		{"the default file", file, nil, nil, fromFile},
		{"--config", nowhere(t), nil, []string{"--config", file}, fromFile},
		{"LMX_CONFIG", nowhere(t), map[string]string{"LMX_CONFIG": file}, nil, fromFile},
		{"the environment beats the file", file,
			map[string]string{"T_NAME": "from-env", "T_HOSTNAME": "c.example", "T_VERBOSE": "false", "T_WAIT": "2s", "T_RETAIN_SIZE": "3GiB"}, nil,
			want{"from-env", []string{"c.example"}, false, 2 * time.Second, 3 << 30}},
		{"an empty variable is set too", file, map[string]string{"T_NAME": ""}, nil,
			want{"", fromFile.hosts, true, time.Minute, 200 << 30}},
		{"flags beat both", file,
			map[string]string{"T_NAME": "from-env", "T_HOSTNAME": "c.example", "T_VERBOSE": "true", "T_WAIT": "2s", "T_RETAIN_SIZE": "3GiB"},
			[]string{"--name", "from-flag", "--hostname", "d.example", "--hostname", "e.example", "--verbose=false", "--wait", "1s", "--retain-size", "4GiB"},
			want{"from-flag", []string{"d.example", "e.example"}, false, time.Second, 4 << 30}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			o := parse(t, tc.def, tc.env, append([]string{"daemon"}, tc.args...)...)
			if o.err != nil || o.exited != -1 {
				t.Fatalf("exit %d, %v", o.exited, o.err)
			}
			d := o.app.Daemon.daemon
			got := want{d.Name, d.Hosts, d.Verbose, d.Wait, d.Retain}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestGlobalFlags: the file sets the program's global flags too, except
// those that are no setting of the daemon; other commands never read it.
func TestGlobalFlags(t *testing.T) {
	file := writeFile(t, "log-level: debug\n")
	if o := parse(t, file, nil, "daemon"); o.err != nil || o.app.LogLevel != "debug" {
		t.Errorf("log-level %q, %v", o.app.LogLevel, o.err)
	}
	if o := parse(t, writeFile(t, "server: http://x\n"), nil, "daemon"); o.err == nil || !strings.Contains(o.err.Error(), `unknown key "server"`) {
		t.Errorf("server: %v", o.err)
	}
	if o := parse(t, writeFile(t, "no-such-key: 1\n"), nil, "other"); o.err != nil || o.app.LogLevel != "info" {
		t.Errorf("another command read the file: %q, %v", o.app.LogLevel, o.err)
	}
}

func TestListsAndValues(t *testing.T) {
	for _, tc := range []struct {
		yaml  string
		hosts []string
	}{
		{"hostname: a.example,b.example\n", []string{"a.example", "b.example"}},
		{"hostname: a.example\n", []string{"a.example"}},
		{"hostname:\n  - a.example\n  - b.example\n", []string{"a.example", "b.example"}},
		{"hostname: []\n", []string{}},
		{"hostname:\n", nil}, // no value: as if absent
	} {
		o := parse(t, writeFile(t, tc.yaml), nil, "daemon")
		if o.err != nil || !reflect.DeepEqual(o.app.Daemon.Hosts, tc.hosts) {
			t.Errorf("%q: %#v, %v", tc.yaml, o.app.Daemon.Hosts, o.err)
		}
	}
	o := parse(t, writeFile(t, "count: 7\nname: 'on'\nno-auto-register: false\nbroker: mqtt://u:pw@h:1883\n"), nil, "daemon")
	if d := o.app.Daemon; o.err != nil || d.Count != 7 || d.Name != "on" || d.NoAutoRegs || d.Broker != "mqtt://u:pw@h:1883" {
		t.Errorf("%+v, %v", o.app.Daemon.daemon, o.err)
	}
	// An empty file, or one of comments only, sets nothing.
	for _, content := range []string{"", "# every key commented out\n# name: x\n", "---\n"} {
		if o := parse(t, writeFile(t, content), nil, "daemon"); o.err != nil || o.app.Daemon.Name != "dflt" {
			t.Errorf("%q: %q, %v", content, o.app.Daemon.Name, o.err)
		}
	}
}

// TestFileErrors: every mistake in a file names the file, the line and the
// key, and an unknown key the flag that was probably meant.
func TestFileErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"name: x\ndata_dir: /x\n", `lmx.yaml:2: unknown key "data_dir" (the keys are the long flag names of app daemon --help)`},
		{"hostnames: [a]\n", `lmx.yaml:1: unknown key "hostnames": did you mean "hostname"? (the keys are the long flag names of app daemon --help)`},
		{"retain_size: 1GiB\n", `lmx.yaml:1: unknown key "retain_size": did you mean "retain-size"?`},
		{"--verbose: true\n", `lmx.yaml:1: unknown key "--verbose": did you mean "verbose"?`},
		{"config: other.yaml\n", `lmx.yaml:1: unknown key "config"`},
		{"print-config: true\n", `lmx.yaml:1: unknown key "print-config"`},
		{"help: true\n", `lmx.yaml:1: unknown key "help"`},
		{"verbose: yes\n", `lmx.yaml:1: verbose: want true or false, not "yes"`},
		{"verbose: 1\n", `lmx.yaml:1: verbose: want true or false, not "1"`},
		{"\nwait: 60\n", `lmx.yaml:2: wait: expected duration but got "60"`},
		{"retain-size: lots\n", `lmx.yaml:1: retain-size: size "lots": want a number of bytes like 2GiB`},
		{"count: three\n", `lmx.yaml:1: count: expected a valid 64 bit int but got "three"`},
		{"name: [a, b]\n", `lmx.yaml:1: name: want a single value, not a list`},
		{"hostname: {a: b}\n", `lmx.yaml:1: hostname: want a list ([a, b]) or a comma-separated string, not keys and values`},
		{"hostname: [[a]]\n", `lmx.yaml:1: hostname: line 1: a list item must be a single value, not a list`},
		{"name: a\nname: b\n", `lmx.yaml:2: name is set twice (line 1 too)`},
		{"- name: a\n", `lmx.yaml:1: want keys and values (data-dir: /var/lib/lmx), not a list`},
		{"name: [a\n", `lmx.yaml: line 1: did not find expected ',' or ']'`},
		{"name: a\n---\nname: b\n", `lmx.yaml:2: a second YAML document: keep the configuration in one`},
	} {
		o := parse(t, writeFile(t, tc.yaml), nil, "daemon")
		if o.err == nil || !strings.Contains(o.err.Error(), tc.want) {
			t.Errorf("%q: %v\nwant it to contain %s", tc.yaml, o.err, tc.want)
		}
	}
}

func TestMissingFiles(t *testing.T) {
	absent := nowhere(t)
	// The default file may be absent.
	if o := parse(t, absent, nil, "daemon"); o.err != nil || o.app.Daemon.Name != "dflt" {
		t.Errorf("absent default: %v", o.err)
	}
	// A file asked for must be there.
	want := "the configuration file (--config) " + absent + ": no such file or directory"
	if o := parse(t, nowhere(t), nil, "daemon", "--config", absent); o.err == nil || o.err.Error() != want {
		t.Errorf("--config: %v\nwant %s", o.err, want)
	}
	want = "the configuration file (LMX_CONFIG) " + absent + ": no such file or directory"
	if o := parse(t, nowhere(t), map[string]string{"LMX_CONFIG": absent}, "daemon"); o.err == nil || o.err.Error() != want {
		t.Errorf("LMX_CONFIG: %v\nwant %s", o.err, want)
	}
	// --config '' and LMX_CONFIG= read none, not even the default.
	file := writeFile(t, "name: from-file\n")
	if o := parse(t, file, nil, "daemon", "--config="); o.err != nil || o.app.Daemon.Name != "dflt" {
		t.Errorf("--config '': %q, %v", o.app.Daemon.Name, o.err)
	}
	if o := parse(t, file, map[string]string{"LMX_CONFIG": ""}, "daemon"); o.err != nil || o.app.Daemon.Name != "dflt" {
		t.Errorf("LMX_CONFIG=: %q, %v", o.app.Daemon.Name, o.err)
	}
	// A default file that exists but cannot be read is an error, not
	// silently skipped: it is the machine's configuration.
	if os.Geteuid() != 0 {
		unreadable := writeFile(t, "name: x\n")
		if err := os.Chmod(unreadable, 0); err != nil {
			t.Fatal(err)
		}
		if o := parse(t, unreadable, nil, "daemon"); o.err == nil || !strings.Contains(o.err.Error(), "permission denied (pass --config FILE for another, or an empty --config for none)") {
			t.Errorf("unreadable default: %v", o.err)
		}
	}
}

func TestPrintConfig(t *testing.T) {
	file := writeFile(t, `# the machine's settings
hostname: [a.example, b.example]
wait: 60s
broker-password: file-secret
broker: mqtt://controld:url-secret@broker.example:1883
`)
	o := parse(t, nowhere(t), map[string]string{"T_VERBOSE": "true", "T_JOIN": "env-secret", "LMX_CONFIG": file},
		"daemon", "--print-config", "--name", "from-flag", "--wait", "2s")
	if o.err != nil || o.exited != 0 {
		t.Fatalf("exit %d, %v\n%s", o.exited, o.err, o.stdout)
	}
	want := `# app daemon: the configuration it would run with.
# Configuration file: ` + file + `
# Precedence: flag > environment > file > default.

log-level: info # default
name: from-flag # flag
hostname: [a.example, b.example] # file ` + file + `:2
verbose: true # env T_VERBOSE
wait: 2s # flag
retain-size: 1GiB # default
count: 3 # default
broker: mqtt://controld:xxxxx@broker.example:1883 # file ` + file + `:5
broker-password: <redacted> # file ` + file + `:4
join: <redacted> # env T_JOIN
no-auto-register: false # default
`
	if o.stdout != want {
		t.Errorf("--print-config:\n%s\nwant:\n%s", o.stdout, want)
	}
	for _, secret := range []string{"file-secret", "url-secret", "env-secret"} {
		if strings.Contains(o.stdout, secret) {
			t.Errorf("--print-config shows %s", secret)
		}
	}

	// What it prints reads back as a configuration file, to the same values.
	again := writeFile(t, o.stdout)
	o2 := parse(t, nowhere(t), nil, "daemon", "--config", again)
	if o2.err != nil {
		t.Fatalf("reading back: %v", o2.err)
	}
	if d := o2.app.Daemon; d.Name != "from-flag" || d.Wait != 2*time.Second || !d.Verbose || len(d.Hosts) != 2 || d.Retain != 1<<30 {
		t.Errorf("read back: %+v", d.daemon)
	}

	// Without a file, it says which one it looked for; an empty secret is
	// shown as empty; a hidden flag only when set.
	absent := nowhere(t)
	o = parse(t, absent, nil, "daemon", "--print-config")
	if o.err != nil || o.exited != 0 ||
		!strings.Contains(o.stdout, "# Configuration file: none ("+absent+" does not exist)\n") ||
		!strings.Contains(o.stdout, "\njoin: \"\" # default\n") || strings.Contains(o.stdout, "token") {
		t.Errorf("exit %d, %v:\n%s", o.exited, o.err, o.stdout)
	}
	o = parse(t, absent, nil, "daemon", "--print-config", "--config=", "--token", "old")
	if !strings.Contains(o.stdout, "# Configuration file: none (--config is empty)\n") || !strings.Contains(o.stdout, "\ntoken: <redacted> # flag\n") {
		t.Errorf("%s", o.stdout)
	}
}

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"datadir", "datadir", 0}, {"hostnames", "hostname", 1}, {"kitten", "sitting", 3}} {
		if got := levenshtein(c.a, c.b); got != c.d {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
