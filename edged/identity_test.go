package edged

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/internal/syncbuf"
)

func TestMain(m *testing.M) {
	// No test may find, or leave, an edge identity in the state dir of the
	// user who runs the tests: DefaultStateDir is a fresh one.
	dir, err := os.MkdirTemp("", "lmx-edged-test-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("STATE_DIRECTORY", dir)
	for _, k := range []string{"LMX_JOIN", "LMX_EDGE_STATE_DIR", "LMX_EDGE_TOKEN", "XDG_STATE_HOME"} {
		os.Unsetenv(k)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeJoin is a control node's join endpoint: it takes one join secret
// once, and counts every request it gets.
type fakeJoin struct {
	edge       string
	joinSecret string
	credential string

	mu       sync.Mutex
	used     bool
	requests int
}

func (f *fakeJoin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.Method != http.MethodPost || r.URL.Path != broker.JoinPath {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.joinSecret || f.used {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusGone)
		_, _ = io.WriteString(w, `{"success":false,"request_id":"r1","error":{"code":410,"message":"join token already used"}}`)
		return
	}
	f.used = true
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(broker.JoinReply{Edge: f.edge, Credential: f.credential})
}

func (f *fakeJoin) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// newSecret is a fresh secret of kind.
func newSecret(t *testing.T, kind secret.Kind) secret.Secret {
	t.Helper()
	s, err := secret.New(kind)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// joinSetup is a control node, over TLS with its own CA, that has issued a
// join token for edge.
type joinSetup struct {
	ca    *testCA
	fake  *fakeJoin
	url   string // the ingest base URL
	join  secret.Join
	token string
}

func newJoinSetup(t *testing.T, edge string) *joinSetup {
	t.Helper()
	js := &joinSetup{ca: newTestCA(t)}
	sec := newSecret(t, secret.KindJoin)
	js.fake = &fakeJoin{edge: edge, joinSecret: sec.String(), credential: newSecret(t, secret.KindEdge).String()}
	js.url = newTLSServer(t, js.ca, js.fake).URL
	js.join = secret.Join{Edge: edge, MQTT: "mqtts://127.0.0.1:1", Ingest: js.url, CAPin: js.ca.pin, Secret: sec}
	js.token = js.encode(t, js.join)
	return js
}

func (js *joinSetup) encode(t *testing.T, j secret.Join) string {
	t.Helper()
	tok, err := j.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// edgeConfig is a configuration that runs without a control node to talk
// to over MQTT, keeping its state in stateDir.
func edgeConfig(t *testing.T, stateDir string) Config {
	t.Helper()
	c := DefaultConfig()
	c.Listen, c.StateDir, c.AllowDirs = "127.0.0.1:0", stateDir, []string{t.TempDir()}
	c.BufferBytes = 8 << 20
	return c
}

// runEdge runs RunMain with cfg until it has printed its push command, then
// stops it, and returns what it printed and logged, and its error.
func runEdge(t *testing.T, cfg Config) (out, logs string, err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	done := make(chan error, 1)
	go func() { done <- RunMain(ctx, cfg, logger, &stdout, "test") }()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-done:
			return stdout.String(), stderr.String(), err
		case <-deadline:
			t.Fatalf("the edge neither started nor failed in 20 s:\n%s\n%s", stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if strings.Contains(stdout.String(), "-method POST") {
			cancel()
			err := <-done
			return stdout.String(), stderr.String(), err
		}
	}
}

// noSecrets fails if any of the texts holds the join token, its secret or
// the credential.
func noSecrets(t *testing.T, js *joinSetup, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, secretText := range []string{js.token, js.join.Secret.String(), js.join.Secret.Key, js.fake.credential} {
			if strings.Contains(s, secretText) {
				t.Errorf("output holds a secret:\n%s", s)
			}
		}
	}
}

// TestJoin: an edge started with --join exchanges it over TLS pinned to the
// control node's CA, keeps the credential 0600 in its state dir, and runs
// with it; started again, with the spent --join still on its command line
// or without it, it uses the kept credential and does not join again.
func TestJoin(t *testing.T) {
	js := newJoinSetup(t, "cam-gw-1")
	stateDir := filepath.Join(t.TempDir(), "state")
	cfg := edgeConfig(t, stateDir)
	cfg.Join = js.token
	before := time.Now().UTC()
	out, logs, err := runEdge(t, cfg)
	if err != nil {
		t.Fatalf("RunMain: %v\n%s", err, logs)
	}
	if n := js.fake.count(); n != 1 {
		t.Fatalf("%d join requests, want 1", n)
	}
	path := filepath.Join(stateDir, "credential.json")
	for p, want := range map[string]os.FileMode{stateDir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", p, got, want)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatalf("state file: %v\n%s", err, b)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"ca_pin", "credential", "edge", "ingest", "join_id", "joined_at", "mqtt"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("state file keys %q, want %q", keys, want)
	}
	var st edgeState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	want := edgeState{Edge: "cam-gw-1", MQTT: js.join.MQTT, Ingest: js.url, CAPin: js.ca.pin,
		Credential: js.fake.credential, JoinID: js.join.Secret.ID, JoinedAt: st.JoinedAt}
	if st != want {
		t.Errorf("state file\n%+v\nwant\n%+v", st, want)
	}
	if st.JoinedAt.Before(before.Add(-time.Second)) || st.JoinedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("joined_at %v, want about now", st.JoinedAt)
	}
	for _, w := range []string{
		`lmx edge "cam-gw-1" test: control node mqtts://127.0.0.1:1, segments uploaded to ` + js.url,
		"TLS pinned to the control node's CA " + js.ca.pin,
		"authenticated with the credential in " + path,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(logs, "joined the control node") {
		t.Errorf("the join is not logged:\n%s", logs)
	}
	noSecrets(t, js, out, logs)

	// Restarted with the same, spent, --join: the kept credential.
	out, logs, err = runEdge(t, cfg)
	if err != nil {
		t.Fatalf("second start with the same --join: %v\n%s", err, logs)
	}
	if !strings.Contains(out, "authenticated with the credential in "+path) {
		t.Errorf("second start:\n%s", out)
	}
	// Restarted without --join: the edge's name and control node come from
	// the state dir.
	cfg.Join = ""
	out, logs, err = runEdge(t, cfg)
	if err != nil {
		t.Fatalf("start without --join: %v\n%s", err, logs)
	}
	if w := `lmx edge "cam-gw-1" test: control node mqtts://127.0.0.1:1, segments uploaded to ` + js.url; !strings.Contains(out, w) {
		t.Errorf("start without --join: output lacks %q:\n%s", w, out)
	}
	noSecrets(t, js, out, logs)
	if n := js.fake.count(); n != 1 {
		t.Errorf("%d join requests after three starts, want 1", n)
	}
	b2, _ := os.ReadFile(path)
	if !bytes.Equal(b, b2) {
		t.Errorf("the state file changed on a restart:\n%s\n%s", b, b2)
	}

	// What Validate leaves for New: the credential from the state dir.
	cfg.Join = js.token
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Credential != js.fake.credential || cfg.needsJoin() {
		t.Errorf("Validate with the spent --join: credential kept %v, needs join %v", cfg.Credential == js.fake.credential, cfg.needsJoin())
	}
}

// TestJoinSpent: a join token the control node no longer takes says so and
// what to do, without echoing the token, and leaves no state behind.
func TestJoinSpent(t *testing.T) {
	js := newJoinSetup(t, "cam-gw-1")
	js.fake.used = true
	stateDir := t.TempDir()
	cfg := edgeConfig(t, stateDir)
	cfg.Join = js.token
	out, logs, err := runEdge(t, cfg)
	if !errors.Is(err, ErrJoinRefused) {
		t.Fatalf("RunMain: %v, want ErrJoinRefused", err)
	}
	msg := err.Error()
	t.Logf("spent join token: %v", err)
	for _, w := range []string{
		"join token already used or expired: run `lmx edge add cam-gw-1` again on the control node",
		"410 Gone: join token already used",
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
	noSecrets(t, js, msg, out, logs)
	if _, err := os.Stat(filepath.Join(stateDir, "credential.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused join left a state file: %v", err)
	}
}

// TestJoinWrongPin: a control node whose CA is not the pinned one is not
// sent the join secret.
func TestJoinWrongPin(t *testing.T) {
	js := newJoinSetup(t, "cam-gw-1")
	j := js.join
	j.CAPin = newTestCA(t).pin
	cfg := edgeConfig(t, t.TempDir())
	cfg.Join = js.encode(t, j)
	err := cfg.Validate()
	if err == nil {
		err = cfg.joinIfNeeded(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	if err == nil {
		t.Fatal("joined a control node whose CA is not the pinned one")
	}
	t.Logf("wrong pin: %v", err)
	if !strings.Contains(err.Error(), "CA pin check failed") || !strings.Contains(err.Error(), "pinned") {
		t.Errorf("error %q does not say the pin does not match", err)
	}
	// The handshake failed: the server saw no request, so no secret.
	if n := js.fake.count(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
	noSecrets(t, js, err.Error())
}

// TestJoinSystemRoots: without a pin an https control node is verified
// against the system's roots, which do not know the test CA.
func TestJoinSystemRoots(t *testing.T) {
	js := newJoinSetup(t, "cam-gw-1")
	j := js.join
	j.CAPin = ""
	cfg := edgeConfig(t, t.TempDir())
	cfg.Join = js.encode(t, j)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	err := cfg.joinIfNeeded(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("join against an unknown CA without a pin: %v", err)
	}
	if n := js.fake.count(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// writeTestState writes a state file for edge in dir with mode perm.
func writeTestState(t *testing.T, dir, edge string, perm os.FileMode) edgeState {
	t.Helper()
	st := edgeState{Edge: edge, MQTT: "mqtt://127.0.0.1:1", Ingest: "http://127.0.0.1:1",
		Credential: newSecret(t, secret.KindEdge).String(), JoinID: newSecret(t, secret.KindJoin).ID, JoinedAt: time.Now().UTC()}
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "credential.json"), perm); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestStateFileOthersMayRead: a credential others may read is refused.
func TestStateFileOthersMayRead(t *testing.T) {
	dir := t.TempDir()
	st := writeTestState(t, dir, "cam-gw-1", 0o644)
	cfg := edgeConfig(t, dir)
	err := cfg.Validate()
	if err == nil {
		t.Fatal("a state file of mode 0644 was used")
	}
	if msg := err.Error(); !strings.Contains(msg, "mode 0644") || !strings.Contains(msg, "chmod 600") || strings.Contains(msg, st.Credential) {
		t.Errorf("error %q", msg)
	}
	os.Chmod(filepath.Join(dir, "credential.json"), 0o600)
	cfg = edgeConfig(t, dir)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Name != st.Edge || cfg.Credential != st.Credential || cfg.MQTT != st.MQTT || cfg.Ingest != st.Ingest {
		t.Errorf("from the state file: name %q, mqtt %q, ingest %q, credential kept %v", cfg.Name, cfg.MQTT, cfg.Ingest, cfg.Credential == st.Credential)
	}
}

// TestStateOverrides: flags win over the state file's URLs, not over whose
// credential it is.
func TestStateOverrides(t *testing.T) {
	dir := t.TempDir()
	st := writeTestState(t, dir, "cam-gw-1", 0o600)
	cfg := edgeConfig(t, dir)
	cfg.Controld = "ctl.example"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.MQTT != "mqtt://ctl.example:1883" || cfg.Ingest != "http://ctl.example:8081" || cfg.Credential != st.Credential || cfg.Name != st.Edge {
		t.Errorf("--controld over a state file: %q %q, credential kept %v, name %q", cfg.MQTT, cfg.Ingest, cfg.Credential == st.Credential, cfg.Name)
	}

	cfg = edgeConfig(t, dir)
	cfg.Name = "other"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `holds the credential of edge "cam-gw-1"`) {
		t.Errorf("--name other than the state file's: %v", err)
	}

	// A pinned control node is reached over TLS only.
	st.CAPin = newTestCA(t).pin
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	cfg = edgeConfig(t, dir)
	cfg.MQTT, cfg.Ingest = "mqtts://127.0.0.1:8883", "http://127.0.0.1:8081"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--ingest http://127.0.0.1:8081 is not TLS") {
		t.Errorf("a pin with an http:// ingest: %v", err)
	}
}

func TestJoinFlagErrors(t *testing.T) {
	js := newJoinSetup(t, "cam-gw-1")

	cfg := edgeConfig(t, t.TempDir())
	cfg.Join, cfg.Name = js.token, "cam-gw-2"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `--name "cam-gw-2", but the join token is for edge "cam-gw-1"`) {
		t.Errorf("--name other than the token's: %v", err)
	}
	cfg.Name = "cam-gw-1"
	if err := cfg.Validate(); err != nil {
		t.Errorf("--name the token's: %v", err)
	}

	bad := js.token[:len(js.token)-7] + "!" + js.token[len(js.token)-6:]
	cfg = edgeConfig(t, t.TempDir())
	cfg.Join = bad
	err := cfg.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "--join: ") || !errors.Is(err, secret.ErrBadJoin) {
		t.Fatalf("malformed --join: %v", err)
	}
	noSecrets(t, js, err.Error())
	if strings.Contains(err.Error(), bad) {
		t.Errorf("the error echoes the token: %v", err)
	}

	cfg = edgeConfig(t, t.TempDir())
	cfg.Controld, cfg.RemovedToken = "ctl.example", "s3cret"
	if err := cfg.Validate(); !errors.Is(err, ErrTokenGone) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("--token: %v", err)
	}
	if !strings.Contains(ErrTokenGone.Error(), "register the edge with `lmx edge add NAME` on the control node and start it with --join") {
		t.Errorf("ErrTokenGone: %v", ErrTokenGone)
	}
}

// TestNoStateOldBehaviour: with no --join and no state file, an edge named
// by its flags runs as before, with no credential.
func TestNoStateOldBehaviour(t *testing.T) {
	cfg := edgeConfig(t, t.TempDir())
	cfg.Name, cfg.Controld = "e1", "127.0.0.1:1"
	out, logs, err := runEdge(t, cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	if !strings.Contains(out, "  not encrypted; no credential (the control node must run with --auth none)\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestDefaultStateDir(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "/var/lib/lmx-edge:/var/lib/other")
	t.Setenv("XDG_STATE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	if got := DefaultStateDir(); got != "/var/lib/lmx-edge" {
		t.Errorf("with $STATE_DIRECTORY: %q", got)
	}
	os.Unsetenv("STATE_DIRECTORY")
	if got := DefaultStateDir(); got != "/xdg/lmx-edge" {
		t.Errorf("with $XDG_STATE_HOME: %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative")
	if got := DefaultStateDir(); got != "/home/u/.local/state/lmx-edge" {
		t.Errorf("with $HOME: %q", got)
	}
}
