package cli

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/tui"
)

// localAt is a localNode that finds node and token in dir (err: what
// reading them failed with).
func localAt(dir string, node api.LocalNode, token string, err error) localNode {
	return func() (string, api.LocalNode, string, error) { return dir, node, token, err }
}

func TestResolve(t *testing.T) {
	const dir = "/var/lib/lmx"
	local := api.LocalNode{APIURL: "https://127.0.0.1:8080", CAFile: "tls/ca.pem", Auth: true}
	found := localAt(dir, local, "admin-secret", nil)
	none := localAt(dir, api.LocalNode{}, "", fs.ErrNotExist)
	for _, tc := range []struct {
		name   string
		server string
		flags  apiFlags
		local  localNode
		want   connection
	}{
		{"nothing anywhere", "", apiFlags{}, none,
			connection{Server: defaultServer, dataDir: dir}},
		{"the local node", "", apiFlags{}, found,
			connection{Server: "https://127.0.0.1:8080", Token: "admin-secret", CAFile: dir + "/tls/ca.pem", tokenFrom: dir + "/admin.token", dataDir: dir}},
		{"the local node named again", "HTTPS://127.0.0.1:8080/", apiFlags{}, found,
			connection{Server: "HTTPS://127.0.0.1:8080/", Token: "admin-secret", CAFile: dir + "/tls/ca.pem", tokenFrom: dir + "/admin.token", dataDir: dir}},
		{"another server gets no admin token", "https://ctl.example:8080", apiFlags{}, found,
			connection{Server: "https://ctl.example:8080", dataDir: dir}},
		{"the same host on http is another server", "127.0.0.1:8080", apiFlags{}, found,
			connection{Server: "127.0.0.1:8080", dataDir: dir}},
		{"--token wins", "", apiFlags{Token: " mine\n"}, found,
			connection{Server: "https://127.0.0.1:8080", Token: "mine", CAFile: dir + "/tls/ca.pem", tokenFrom: "--token or LMX_TOKEN", dataDir: dir}},
		{"--ca-file wins", "", apiFlags{CAFile: "/etc/lmx/ca.pem"}, found,
			connection{Server: "https://127.0.0.1:8080", Token: "admin-secret", CAFile: "/etc/lmx/ca.pem", tokenFrom: dir + "/admin.token", dataDir: dir}},
		{"admin token unreadable", "", apiFlags{}, localAt(dir, api.LocalNode{APIURL: "http://127.0.0.1:9999"}, "", nil),
			connection{Server: "http://127.0.0.1:9999", dataDir: dir}},
		{"absolute CA file", "", apiFlags{}, localAt(dir, api.LocalNode{APIURL: "https://[::1]:8080", CAFile: "/srv/ca.pem"}, "", nil),
			connection{Server: "https://[::1]:8080", CAFile: "/srv/ca.pem", dataDir: dir}},
		{"a broken local.json does not matter with --server", "http://ctl:8080", apiFlags{}, localAt(dir, api.LocalNode{}, "", errors.New("bad json")),
			connection{Server: "http://ctl:8080", dataDir: dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolve(tc.server, tc.flags, tc.local)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestResolveAllGiven(t *testing.T) {
	got, err := resolve("https://ctl:8080", apiFlags{Token: "t", CAFile: "/ca.pem"}, func() (string, api.LocalNode, string, error) {
		t.Error("looked for a local control node with nothing left to learn from it")
		return "", api.LocalNode{}, "", fs.ErrNotExist
	})
	if err != nil || got.Server != "https://ctl:8080" || got.Token != "t" || got.CAFile != "/ca.pem" {
		t.Errorf("%+v, %v", got, err)
	}
}

func TestResolveBrokenLocal(t *testing.T) {
	_, err := resolve("", apiFlags{}, localAt("/var/lib/lmx", api.LocalNode{}, "", errors.New("unexpected end of JSON input")))
	if err == nil || err.Error() != "the control node on this machine left /var/lib/lmx/local.json unreadable: unexpected end of JSON input (pass --server to skip it)" {
		t.Errorf("%v", err)
	}
}

func TestReadLocal(t *testing.T) {
	dir := t.TempDir()
	writeLocal(t, dir, api.LocalNode{APIURL: "http://127.0.0.1:8080", Auth: true}, "secret\n")
	env := map[string]string{"LMX_DATA_DIR": dir}
	d, node, token, err := readLocal(func(k string) string { return env[k] }, "")()
	if err != nil || d != dir || node.APIURL != "http://127.0.0.1:8080" || token != "secret" {
		t.Errorf("%s %+v %q %v", d, node, token, err)
	}

	// Without LMX_DATA_DIR, the control node's own default.
	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	d, _, _, err = readLocal(func(string) string { return "" }, "")()
	if d != filepath.Join(xdg, "lmx") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s %v", d, err)
	}
}

// TestReadLocalSystem: without LMX_DATA_DIR and with nothing in the user's
// own default data dir, lmx finds the control node the package runs in
// /var/lib/lmx (here, a directory standing for it).
func TestReadLocalSystem(t *testing.T) {
	xdg, system := t.TempDir(), t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	none := func(string) string { return "" }

	// Neither has one: the user's own dir is the one named.
	d, _, _, err := readLocal(none, system)()
	if d != filepath.Join(xdg, "lmx") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("neither: %s %v", d, err)
	}
	// The system's.
	writeLocal(t, system, api.LocalNode{APIURL: "https://127.0.0.1:8080", Auth: true}, "system-secret\n")
	d, node, token, err := readLocal(none, system)()
	if err != nil || d != system || node.APIURL != "https://127.0.0.1:8080" || token != "system-secret" {
		t.Errorf("system: %s %+v %q %v", d, node, token, err)
	}
	// The user's own comes first.
	if err := os.MkdirAll(filepath.Join(xdg, "lmx"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeLocal(t, filepath.Join(xdg, "lmx"), api.LocalNode{APIURL: "http://127.0.0.1:9999"}, "")
	if d, node, _, err := readLocal(none, system)(); err != nil || d != filepath.Join(xdg, "lmx") || node.APIURL != "http://127.0.0.1:9999" {
		t.Errorf("own: %s %+v %v", d, node, err)
	}
	// LMX_DATA_DIR is the only place looked in when set.
	other := t.TempDir()
	if d, _, _, err := readLocal(func(k string) string { return map[string]string{"LMX_DATA_DIR": other}[k] }, system)(); d != other || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LMX_DATA_DIR: %s %v", d, err)
	}
}

// TestResolveSystemUnreadable: a packaged control node's files that this
// user may not read say which group to join.
func TestResolveSystemUnreadable(t *testing.T) {
	perm := &fs.PathError{Op: "open", Path: api.SystemDataDir + "/local.json", Err: fs.ErrPermission}
	_, err := resolve("", apiFlags{}, localAt(api.SystemDataDir, api.LocalNode{}, "", perm))
	want := "you may not read /var/lib/lmx/local.json, which the control node on this machine left for lmx: add yourself to group lmx (sudo adduser $USER lmx, then log in again), or pass --server and --token"
	if err == nil || err.Error() != want {
		t.Errorf("%v\nwant %s", err, want)
	}
	// With --server, the local node does not matter.
	if c, err := resolve("https://ctl.example:8080", apiFlags{}, localAt(api.SystemDataDir, api.LocalNode{}, "", perm)); err != nil || c.Server != "https://ctl.example:8080" {
		t.Errorf("--server: %+v %v", c, err)
	}
}

// writeLocal leaves in dir what a control node leaves for local tools.
func writeLocal(t *testing.T, dir string, node api.LocalNode, token string) {
	t.Helper()
	b, _ := json.Marshal(node)
	if err := os.WriteFile(filepath.Join(dir, api.LocalFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if token != "" {
		if err := os.WriteFile(filepath.Join(dir, api.AdminTokenFile), []byte(token), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// authServer is a control node that wants token (any token when ""),
// answering source listings, and remembers the Authorization it saw.
type authServer struct {
	*httptest.Server
	want string
	mu   sync.Mutex
	auth []string
}

func newAuthServer(t *testing.T, token string, tls bool) *authServer {
	s := &authServer{want: token}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := r.Header.Get("Authorization")
		s.mu.Lock()
		s.auth = append(s.auth, a)
		s.mu.Unlock()
		if s.want != "" && a != "Bearer "+s.want {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(api.Envelope{Error: &api.Error{Code: 401, Message: "a valid token is required"}})
			return
		}
		json.NewEncoder(w).Encode(api.SourcesReply{Envelope: api.Envelope{Success: true}})
	})
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes a test means to fail
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) lastAuth(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.auth) == 0 {
		t.Fatal("no request reached the server")
	}
	return s.auth[len(s.auth)-1]
}

// TestLocalControlNode: on the control node's machine, `lmx source ls`
// needs no flags: the address and the admin token come from its data dir.
func TestLocalControlNode(t *testing.T) {
	srv := newAuthServer(t, "admin-secret", false)
	e := realEnv(t)
	dir := os.Getenv("LMX_DATA_DIR")
	writeLocal(t, dir, api.LocalNode{APIURL: srv.URL, Auth: true}, "admin-secret\n")

	wantOK(t, runWith(context.Background(), e, "source", "ls"), "no sources yet: create one with lmx source add NAME\n")
	if a := srv.lastAuth(t); a != "Bearer admin-secret" {
		t.Errorf("Authorization %q", a)
	}

	// --token and LMX_TOKEN come first.
	r := runWith(context.Background(), e, "source", "ls", "--token", "viewer-secret")
	wantErr(t, r, 1, "the control node refused the token from --token or LMX_TOKEN (a valid token is required): it may have expired or been revoked; pass another with --token or LMX_TOKEN")
	if a := srv.lastAuth(t); a != "Bearer viewer-secret" {
		t.Errorf("Authorization %q", a)
	}
	t.Setenv("LMX_TOKEN", "env-secret")
	runWith(context.Background(), e, "rec", "ls")
	if a := srv.lastAuth(t); a != "Bearer env-secret" {
		t.Errorf("Authorization %q", a)
	}
	os.Unsetenv("LMX_TOKEN")

	// Another server never gets the local admin token.
	other := newAuthServer(t, "", false)
	runWith(context.Background(), e, "--server", other.URL, "source", "ls")
	if a := other.lastAuth(t); a != "" {
		t.Errorf("another server got Authorization %q", a)
	}
	t.Setenv("LMX_SERVER", other.URL)
	runWith(context.Background(), e, "source", "ls")
	if a := other.lastAuth(t); a != "" {
		t.Errorf("another server got Authorization %q", a)
	}
}

func TestNoTokenSaysWhereItLooked(t *testing.T) {
	srv := newAuthServer(t, "admin-secret", false)
	e := realEnv(t)
	dir := os.Getenv("LMX_DATA_DIR")
	// This user may not read the admin token: local.json only.
	writeLocal(t, dir, api.LocalNode{APIURL: srv.URL, Auth: true}, "")
	wantErr(t, runWith(context.Background(), e, "source", "ls"), 1,
		"the control node wants a token: pass --token, set LMX_TOKEN, or run this on the control node's machine as the user that runs it (it reads "+filepath.Join(dir, "admin.token")+")")
	if a := srv.lastAuth(t); a != "" {
		t.Errorf("Authorization %q", a)
	}
}

// TestUnreadableAdminToken: an admin token this user may not read is
// named as such, with what to do about it.
func TestUnreadableAdminToken(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	srv := newAuthServer(t, "admin-secret", false)
	e := realEnv(t)
	dir := os.Getenv("LMX_DATA_DIR")
	writeLocal(t, dir, api.LocalNode{APIURL: srv.URL, Auth: true}, "admin-secret\n")
	if err := os.Chmod(filepath.Join(dir, api.AdminTokenFile), 0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, runWith(context.Background(), e, "source", "ls"), 1,
		"the control node wants a token, and you may not read its admin token "+filepath.Join(dir, "admin.token")+": run this as the user that runs the control node, or pass --token or set LMX_TOKEN")
}

func TestLocalControlNodeCA(t *testing.T) {
	srv := newAuthServer(t, "admin-secret", true)
	e := realEnv(t)
	dir := os.Getenv("LMX_DATA_DIR")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	writeLocal(t, dir, api.LocalNode{APIURL: srv.URL, CAFile: "ca.pem", Auth: true}, "admin-secret")
	wantOK(t, runWith(context.Background(), e, "source", "ls"), "no sources yet: create one with lmx source add NAME\n")

	// Named as --ca-file, for a server reached some other way.
	r := runWith(context.Background(), e, "--server", srv.URL, "source", "ls", "--token", "admin-secret", "--ca-file", filepath.Join(dir, "ca.pem"))
	wantOK(t, r, "no sources yet: create one with lmx source add NAME\n")

	// Without it (and no local control node to name it), the error says
	// what to pass.
	os.Remove(filepath.Join(dir, api.LocalFile))
	r = runWith(context.Background(), e, "--server", srv.URL, "source", "ls", "--token", "admin-secret")
	if r.code != 1 || !strings.Contains(r.stderr, "pass --ca-file or set LMX_CA_FILE") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}

	r = runWith(context.Background(), e, "--server", srv.URL, "source", "ls", "--ca-file", filepath.Join(dir, "nope.pem"))
	wantErr(t, r, 1, "CA file: open "+filepath.Join(dir, "nope.pem")+": no such file or directory")
}

// TestTuiClientCarriesToken: the dashboard gets the commands' client, so
// the token reaches its event stream as well as its requests.
func TestTuiClientCarriesToken(t *testing.T) {
	auth := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: hello\ndata: {}\n\n")
	}))
	defer srv.Close()
	e := realEnv(t)
	d := &dial{root: &Root{}, env: e}
	p, err := newParser(context.Background(), d, io.Discard, io.Discard, BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := p.Parse([]string{"--server", srv.URL, "tui", "--token", "tui-secret"})
	if err != nil {
		t.Fatal(err)
	}
	var follow error
	_, err = kctx.Call(func(c Client) {
		tc, ok := c.(tui.Client)
		if !ok {
			t.Fatalf("%T does not follow events", c)
		}
		follow = tc.FollowEvents(context.Background(), func(api.StreamEvent) {})
	})
	if err != nil {
		t.Fatal(err)
	}
	if follow == nil || !strings.Contains(follow.Error(), "ended") {
		t.Errorf("FollowEvents: %v", follow)
	}
	if a := <-auth; a != "Bearer tui-secret" {
		t.Errorf("event stream Authorization %q", a)
	}
}
