// Package e2e drives the real lmx binaries (built once by TestMain) with real
// ffmpeg, ffprobe and HTTP clients. Nothing is mocked: every test starts
// `lmx controld` and an edge agent as processes on loopback ports, pushes HLS
// to the edge the way LiveMix's ffmpeg command does, and checks what a player
// sees on the control node.
//
// Run with `go test -count=1 -v ./e2e/`; `-short` skips the package.
// LMX_E2E_BINDIR=DIR tests DIR/lmx and DIR/lmx-edge instead of building them;
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// Paths of the binaries under test, set by TestMain.
var (
	lmxBin     string // cmd/lmx
	lmxEdgeBin string // cmd/lmx-edge
	ffmpegBin  string
	ffprobeBin string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped under -short (these tests build lmx and run it with ffmpeg for about a minute)")
		os.Exit(0)
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// The daemons under test read no configuration file of this machine's
	// (/etc/lmx/*.yaml, left by an installed package): an empty LMX_CONFIG
	// reads none.
	os.Setenv("LMX_CONFIG", "")
	var err error
	for _, tool := range []struct {
		name string
		dst  *string
	}{{"ffmpeg", &ffmpegBin}, {"ffprobe", &ffprobeBin}} {
		if *tool.dst, err = exec.LookPath(tool.name); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s not found in PATH (install it, e.g. `make test-deps`): %v\n", tool.name, err)
			return 1
		}
	}
	if dir := os.Getenv("LMX_E2E_BINDIR"); dir != "" {
		// Binaries built elsewhere (a release build, a -race build).
		lmxBin, lmxEdgeBin = filepath.Join(dir, "lmx"), filepath.Join(dir, "lmx-edge")
		for _, b := range []string{lmxBin, lmxEdgeBin} {
			if _, err := os.Stat(b); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: LMX_E2E_BINDIR: %v\n", err)
				return 1
			}
		}
		fmt.Printf("e2e: testing the binaries in %s\n", dir)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "lmx-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	lmxBin = filepath.Join(dir, "lmx")
	lmxEdgeBin = filepath.Join(dir, "lmx-edge")
	for _, b := range []struct{ out, pkg string }{
		{lmxBin, "github.com/lmx-video/lmx/cmd/lmx"},
		{lmxEdgeBin, "github.com/lmx-video/lmx/cmd/lmx-edge"},
	} {
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build %s: %v\n", b.pkg, err)
			return 1
		}
		fmt.Printf("e2e: built %s in %s\n", filepath.Base(b.out), time.Since(start).Round(time.Millisecond))
	}
	return m.Run()
}

// ---------------------------------------------------------------------------
// Ports

var (
	portsMu sync.Mutex
	given   = map[int]bool{}
)

// freePort returns a loopback port nothing listens on now and that no other
// test of this package was given.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		portsMu.Lock()
		dup := given[port]
		given[port] = true
		portsMu.Unlock()
		if !dup {
			return port
		}
	}
	t.Fatal("free port: no unused port after 50 tries")
	return 0
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// ---------------------------------------------------------------------------
// Processes

// logWriter copies a process's output into the test log line by line, with
// the process's name as prefix, and keeps it for assertions.
type logWriter struct {
	t      *testing.T
	prefix string

	mu      sync.Mutex
	partial []byte
	all     bytes.Buffer
	closed  bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *logWriter) emit(line string) {
	if !w.closed {
		w.t.Logf("[%s] %s", w.prefix, strings.TrimRight(line, "\r"))
	}
}

// flush logs a last unterminated line; nothing is logged after it.
func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.emit(string(w.partial))
		w.partial = nil
	}
	w.closed = true
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// proc is a running process started by the test.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  *logWriter
	// graceful processes must exit with status 0 on SIGINT.
	graceful bool

	done    chan struct{}
	waitErr error
	stop    sync.Once
}

// startProc starts bin with its output in the test log and stops it (SIGINT,
// then SIGKILL after 5 s) when the test ends. When graceful is true, the
// process must exit 0 on that SIGINT, within the 5 s.
func startProc(t *testing.T, name string, graceful bool, bin string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, name, graceful, nil, bin, args...)
}

// startProcEnv is startProc with env (KEY=VALUE) added to the environment
// the process inherits from the test.
func startProcEnv(t *testing.T, name string, graceful bool, env []string, bin string, args ...string) *proc {
	t.Helper()
	lw := &logWriter{t: t, prefix: name}
	cmd := exec.Command(bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = lw, lw
	cmd.WaitDelay = 2 * time.Second // pipes of a killed process are not waited on forever
	t.Logf("start %s: %s %s", name, filepath.Base(bin), shellJoin(args))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{t: t, name: name, cmd: cmd, log: lw, graceful: graceful, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		lw.flush()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// shellJoin renders args for the log, quoting those a shell would need quoted.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\r\n'\"$\\") {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// Exited reports whether the process has ended.
func (p *proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitCode is the exit status once the process has ended (-1 when killed by a signal).
func (p *proc) ExitCode() int {
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// Output is everything the process wrote so far.
func (p *proc) Output() string { return p.log.String() }

// Stop interrupts the process and waits for it: SIGINT, then SIGKILL if it
// is still running 5 s later. A graceful process must have exited 0 by then.
func (p *proc) Stop() {
	p.stop.Do(func() {
		if p.Exited() {
			if p.graceful {
				p.t.Errorf("%s exited by itself before the test stopped it: %v", p.name, p.waitErr)
			}
			return
		}
		start := time.Now()
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			if p.graceful {
				p.t.Errorf("%s did not exit within 5 s of SIGINT; killed", p.name)
				return
			}
		}
		code := p.cmd.ProcessState.ExitCode()
		p.t.Logf("%s stopped in %s, exit status %d", p.name, time.Since(start).Round(time.Millisecond), code)
		if p.graceful && code != 0 {
			p.t.Errorf("%s: exit status %d after SIGINT, want 0 (graceful shutdown): %v", p.name, code, p.waitErr)
		}
	})
}

// ---------------------------------------------------------------------------
// Polling and HTTP

// eventually calls f every interval until it reports done, failing the test
// with f's last explanation when timeout passes first.
func eventually(t *testing.T, timeout, interval time.Duration, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := f()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %s: %s", what, timeout, why)
		}
		time.Sleep(interval)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: authTransport{nodeTLS{}}}

// Requests to a control node started with TLS go through a transport that
// trusts that node's CA (and no other); every other request, https to
// anywhere else included, through http.DefaultTransport and the system's
// roots.
var nodeTransports sync.Map // host:port → *http.Transport

type nodeTLS struct{}

func (nodeTLS) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "https" {
		if tr, ok := nodeTransports.Load(req.URL.Host); ok {
			return tr.(*http.Transport).RoundTrip(req)
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// The control nodes of the tests run with access control on (the default)
// unless a test says --auth none. So that every test need not carry tokens,
// requests the tests send themselves to a node's management API or
// playback listener carry that node's admin token, unless they carry an
// Authorization header of their own or the header anonymous (which is
// taken off). Real players (ffprobe, ffmpeg, Chromium) get signed URLs or
// the token as a header, as a user would give them.
var nodeTokens sync.Map // host:port → admin token

// anonymous marks a request that must go without the node's token.
const anonymous = "X-Lmx-Test-Anonymous"

type authTransport struct{ base http.RoundTripper }

func (a authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get(anonymous) != "" {
		req = req.Clone(req.Context())
		req.Header.Del(anonymous)
		return a.base.RoundTrip(req)
	}
	if tok, ok := nodeTokens.Load(req.URL.Host); ok && req.Header.Get("Authorization") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+tok.(string))
	}
	return a.base.RoundTrip(req)
}

// playerAuth is the ffmpeg/ffprobe input flags that give a player the
// node's token for u, unless u is a signed URL (which needs nothing).
func playerAuth(u string) []string {
	if tok := tokenFor(u); tok != "" && !strings.Contains(u, "grant=") {
		return []string{"-headers", "Authorization: Bearer " + tok + "\r\n"}
	}
	return nil
}

// tokenFor is the admin token of the node serving u ("" for none).
func tokenFor(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	if tok, ok := nodeTokens.Load(pu.Host); ok {
		return tok.(string)
	}
	return ""
}

// response is a fully read HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) String() string {
	b := r.Body
	if len(b) > 400 {
		b = append(b[:400:400], "…"...)
	}
	return fmt.Sprintf("%d %s: %s", r.Status, r.Header.Get("Content-Type"), bytes.TrimSpace(b))
}

// do sends a request and reads the whole answer.
func do(method, u string, header http.Header, body io.Reader) (*response, error) {
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", method, u, err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

func get(u string) (*response, error) { return do(http.MethodGet, u, nil, nil) }

// mustDo is do that fails the test on a transport error.
func mustDo(t *testing.T, method, u string, header http.Header, body io.Reader) *response {
	t.Helper()
	r, err := do(method, u, header, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return r
}

// waitHTTP waits until u answers 200.
func waitHTTP(t *testing.T, u string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, 100*time.Millisecond, "GET "+u+" answers 200", func() (bool, string) {
		r, err := get(u)
		if err != nil {
			return false, err.Error()
		}
		return r.Status == http.StatusOK, r.String()
	})
}

// apiError is the error part of both the control node's LiveMix envelope
// and the edge's answers.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"detail"`
}

// envelope is the LiveMix reply wrapper.
type envelope struct {
	Success   bool      `json:"success"`
	RequestID string    `json:"request_id"`
	Error     *apiError `json:"error"`
}

// expectError checks that r is a JSON error answer with status code whose
// message (or detail) contains every one of wants. requestID says whether
// the LiveMix request_id must be present (control node answers).
func expectError(t *testing.T, what string, r *response, code int, requestID bool, wants ...string) {
	t.Helper()
	if r.Status != code {
		t.Errorf("%s: status %d, want %d (%s)", what, r.Status, code, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	var env envelope
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Errorf("%s: body is not JSON: %v (%s)", what, err, r)
		return
	}
	if env.Success || env.Error == nil {
		t.Errorf("%s: want success false and an error, got %s", what, r)
		return
	}
	if env.Error.Code != code {
		t.Errorf("%s: error.code %d, want %d", what, env.Error.Code, code)
	}
	if env.Error.Message == "" {
		t.Errorf("%s: empty error message", what)
	}
	if requestID && env.RequestID == "" {
		t.Errorf("%s: no request_id in the envelope: %s", what, r)
	}
	text := env.Error.Message + " " + env.Error.Detail
	t.Logf("%s → %d %q", what, r.Status, strings.TrimSpace(text))
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s: message %q does not mention %q", what, text, w)
		}
	}
}

// ---------------------------------------------------------------------------
// The daemons

// controlNode is a running `lmx controld`.
type controlNode struct {
	t                *testing.T
	dataDir          string
	apiPort, vodPort int
	mqttPort         int
	extra            []string
	env              []string // added to the daemon's environment
	proc             *proc
	apiURL, vodURL   string
	mqttURL          string
	starts           int
	// adminToken is the node's first admin token ("" with --auth none).
	adminToken string
	// ownVOD and ownMQTT are the node's own addresses; a test that sets
	// vodURL and mqttURL to something else (forwarders) has edges dial those.
	ownVOD, ownMQTT string
	// tls is set when the node serves TLS (--tls on or --tls-cert): its
	// URLs are https:// and mqtts://, and the harness's client trusts
	// caFile for it.
	tls bool
	// caFile is the CA the node's certificate chains to: DATA-DIR/tls/ca.pem
	// for the node's own CA (made at start), else the --tls-cert file,
	// whose chain ends in its CA.
	caFile string
}

// authOn reports whether the node runs with access control.
func (cn *controlNode) authOn() bool {
	for i, a := range cn.extra {
		if a == "--auth=none" || a == "--auth" && i+1 < len(cn.extra) && cn.extra[i+1] == "none" {
			return false
		}
	}
	return true
}

// tlsFlags reports whether the flags put a node on TLS whatever its
// addresses (--tls on, or a certificate), and the certificate file given.
func tlsFlags(extra []string) (on bool, certFile string) {
	for i, a := range extra {
		next := ""
		if i+1 < len(extra) {
			next = extra[i+1]
		}
		switch {
		case a == "--tls=on", a == "--tls" && next == "on":
			on = true
		case a == "--tls-cert":
			on, certFile = true, next
		case strings.HasPrefix(a, "--tls-cert="):
			on, certFile = true, strings.TrimPrefix(a, "--tls-cert=")
		}
	}
	return on, certFile
}

// startControld starts a control node on fresh ports with a fresh data dir.
func startControld(t *testing.T, extra ...string) *controlNode {
	t.Helper()
	return startControldEnv(t, nil, extra...)
}

// startControldEnv is startControld with env (KEY=VALUE, such as the S3
// credentials) added to the daemon's environment.
func startControldEnv(t *testing.T, env []string, extra ...string) *controlNode {
	t.Helper()
	cn := &controlNode{
		env:      env,
		t:        t,
		dataDir:  t.TempDir(),
		apiPort:  freePort(t),
		vodPort:  freePort(t),
		mqttPort: freePort(t),
		extra:    extra,
	}
	httpScheme, mqttScheme := "http://", "mqtt://"
	if on, certFile := tlsFlags(extra); on {
		cn.tls, cn.caFile = true, certFile
		if cn.caFile == "" {
			cn.caFile = filepath.Join(cn.dataDir, "tls", "ca.pem")
		}
		httpScheme, mqttScheme = "https://", "mqtts://"
	}
	t.Cleanup(func() {
		for _, port := range []int{cn.apiPort, cn.vodPort} {
			if tr, ok := nodeTransports.LoadAndDelete(loopback(port)); ok {
				tr.(*http.Transport).CloseIdleConnections()
			}
		}
	})
	cn.apiURL = httpScheme + loopback(cn.apiPort)
	cn.vodURL = httpScheme + loopback(cn.vodPort)
	cn.mqttURL = mqttScheme + loopback(cn.mqttPort)
	cn.ownVOD, cn.ownMQTT = cn.vodURL, cn.mqttURL
	cn.start()
	return cn
}

// trustCA makes the harness's client trust the node's CA file for the
// node's management API and playback listener. The node's own CA is made
// at its start, so the file may not be there yet.
func (cn *controlNode) trustCA() error {
	pem, err := os.ReadFile(cn.caFile)
	if err != nil {
		return fmt.Errorf("the node's CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("the node's CA: no certificate in %s", cn.caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	for _, port := range []int{cn.apiPort, cn.vodPort} {
		if old, ok := nodeTransports.Swap(loopback(port), tr); ok {
			old.(*http.Transport).CloseIdleConnections()
		}
	}
	return nil
}

// start (re)starts the control node with its data dir and ports, and waits
// until it is ready.
func (cn *controlNode) start() {
	t := cn.t
	t.Helper()
	cn.starts++
	args := append([]string{"controld",
		"--data-dir", cn.dataDir,
		"--api-listen", loopback(cn.apiPort),
		"--vod-listen", loopback(cn.vodPort),
		"--mqtt-listen", loopback(cn.mqttPort),
	}, cn.extra...)
	name := "controld"
	if cn.starts > 1 {
		name = fmt.Sprintf("controld#%d", cn.starts)
	}
	cn.proc = startProcEnv(t, name, true, cn.env, lmxBin, args...)
	eventually(t, 15*time.Second, 100*time.Millisecond, name+" ready", func() (bool, string) {
		if cn.proc.Exited() {
			t.Fatalf("%s exited while starting (status %d)", name, cn.proc.ExitCode())
		}
		if cn.tls {
			if err := cn.trustCA(); err != nil {
				return false, err.Error()
			}
		}
		r, err := get(cn.apiURL + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		return r.Status == http.StatusOK, r.String()
	})
	waitHTTP(t, cn.vodURL+"/healthz", 5*time.Second)
	if cn.authOn() {
		b, err := os.ReadFile(filepath.Join(cn.dataDir, "admin.token"))
		if err != nil {
			t.Fatalf("%s: the admin token: %v", name, err)
		}
		cn.adminToken = strings.TrimSpace(string(b))
		for _, port := range []int{cn.apiPort, cn.vodPort} {
			nodeTokens.Store(loopback(port), cn.adminToken)
		}
	}
}

// joinToken registers an edge with the node (POST /v1/edge, as `lmx edge
// add` does) and returns its single-use join token.
func (cn *controlNode) joinToken(t *testing.T, name string) string {
	t.Helper()
	r := mustDo(t, http.MethodPost, cn.apiURL+"/v1/edge", nil, strings.NewReader(`{"name":"`+name+`","host":"127.0.0.1"}`))
	var out struct {
		JoinToken string `json:"join_token"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != http.StatusOK || out.JoinToken == "" {
		t.Fatalf("POST /v1/edge %s: %v: %s", name, err, r)
	}
	return out.JoinToken
}

// grantURL is a signed playback URL of a source's live playlist or of a
// recording ("source" or "recording"), minted by the node's admin token.
func (cn *controlNode) grantURL(t *testing.T, kind, id string) string {
	t.Helper()
	r := mustDo(t, http.MethodPost, cn.apiURL+"/v1/"+kind+"/"+url.PathEscape(id)+"/grant", nil, strings.NewReader(`{}`))
	var out struct {
		Grant struct {
			URL string `json:"url"`
		} `json:"grant"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != http.StatusOK || out.Grant.URL == "" {
		t.Fatalf("grant for %s %s: %v: %s", kind, id, err, r)
	}
	return out.Grant.URL
}

// liveURL is the live playlist of a source on the control node.
func (cn *controlNode) liveURL(source string) string {
	return cn.vodURL + "/v1/vod/live/" + url.PathEscape(source) + "/vid.m3u8"
}

// edgeNode is a running edge agent.
type edgeNode struct {
	name     string
	allowDir string
	url      string // base URL ffmpeg pushes to
	proc     *proc
}

// pushURL is where ffmpeg posts playlists.
func (e *edgeNode) pushURL() string { return e.url + "/v1/playlist" }

// startEdge starts an edge agent (bin is lmxBin for `lmx edged` or
// lmxEdgeBin) connected to cn, and waits until the control node lists it
// online.
func startEdge(t *testing.T, bin, name string, cn *controlNode, allowDir string, extra ...string) *edgeNode {
	t.Helper()
	e := launchEdge(t, bin, name, cn, allowDir, nil, extra...)
	waitEdgeOnline(t, cn, name, 15*time.Second)
	return e
}

// launchEdge is startEdge with env (KEY=VALUE) added to the agent's
// environment, returning once the agent serves its ingest listener,
// online on the control node or not.
func launchEdge(t *testing.T, bin, name string, cn *controlNode, allowDir string, env []string, extra ...string) *edgeNode {
	t.Helper()
	port := freePort(t)
	var args []string
	if bin == lmxBin {
		args = append(args, "edged")
	}
	args = append(args,
		"--name", name,
		"--listen", loopback(port),
		"--allow-dir", allowDir,
		"--state-dir", t.TempDir(),
		"--heartbeat", "1s",
	)
	if cn.authOn() {
		// As an operator would: `lmx edge add NAME` on the control node,
		// then the edge started with the join token it printed.
		args = append(args, "--join", cn.joinToken(t, name))
	}
	// A joined edge dials what its token names (the node's own addresses,
	// or its --broker); a test's forwarders in front of them override it.
	if !cn.authOn() || cn.mqttURL != cn.ownMQTT || cn.vodURL != cn.ownVOD {
		args = append(args, "--mqtt", cn.mqttURL, "--ingest", cn.vodURL)
	}
	args = append(args, extra...)
	e := &edgeNode{name: name, allowDir: allowDir, url: "http://" + loopback(port)}
	e.proc = startProcEnv(t, "edge "+name, true, env, bin, args...)
	eventually(t, 15*time.Second, 100*time.Millisecond, "edge "+name+" serving", func() (bool, string) {
		if e.proc.Exited() {
			t.Fatalf("edge %s exited while starting (status %d)", name, e.proc.ExitCode())
		}
		r, err := get(e.url + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		return r.Status == http.StatusOK, r.String()
	})
	return e
}

// waitEdgeOnline waits until GET /v1/edge on cn says the edge is online.
func waitEdgeOnline(t *testing.T, cn *controlNode, name string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, 200*time.Millisecond, "edge "+name+" online on the control node", func() (bool, string) {
		r, err := get(cn.apiURL + "/v1/edge")
		if err != nil {
			return false, err.Error()
		}
		var out struct {
			Edges []edgeJSON `json:"edges"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil {
			return false, fmt.Sprintf("%v: %s", err, r)
		}
		for _, e := range out.Edges {
			if e.Name == name && e.Online {
				return true, ""
			}
		}
		return false, r.String()
	})
}

// ---------------------------------------------------------------------------
// JSON shapes (the contract as scripts see it)

type sourceJSON struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Streaming     int    `json:"streaming"`
	Edge          string `json:"edge"`
	RRTarget      string `json:"rr_target"`
	EdgeOnline    bool   `json:"edge_online"`
	EdgeStreaming bool   `json:"edge_streaming"`
	LiveSegments  int    `json:"live_segments"`
	PlaybackURL   string `json:"playback_url"`
}

type edgeJSON struct {
	Name    string `json:"name"`
	Online  bool   `json:"online"`
	Sources []struct {
		Name      string `json:"name"`
		Streaming bool   `json:"streaming"`
		Uploaded  uint64 `json:"uploaded"`
		Dropped   uint64 `json:"dropped"`
	} `json:"sources"`
}

// ---------------------------------------------------------------------------
// The CLI

type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runLMX runs `lmx --server cn ARGS...` and returns what it printed and its
// exit status; it fails the test if the command cannot run or hangs. The
// node's admin token goes in LMX_TOKEN and, for a TLS node, its CA in
// LMX_CA_FILE.
func runLMX(t *testing.T, cn *controlNode, args ...string) cliResult {
	t.Helper()
	var env []string
	if cn.adminToken != "" {
		env = append(env, "LMX_TOKEN="+cn.adminToken)
	}
	if cn.tls {
		env = append(env, "LMX_CA_FILE="+cn.caFile)
	}
	return runCLI(t, env, append([]string{"--server", cn.apiURL}, args...)...)
}

// runCLI runs `lmx ARGS...` with env (KEY=VALUE) added to the environment
// the test has, and returns what it printed and its exit status; it fails
// the test if the command cannot run or hangs.
func runCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, lmxBin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("lmx %s: %v (stderr: %s)", strings.Join(args, " "), err, res.Stderr)
	}
	t.Logf("lmx %s → exit %d in %s\n  stdout: %s\n  stderr: %s", strings.Join(args, " "), res.Code,
		time.Since(start).Round(time.Millisecond), strings.TrimSpace(res.Stdout), strings.TrimSpace(res.Stderr))
	return res
}

// mustLMX runs the CLI and fails the test unless it exits 0.
func mustLMX(t *testing.T, cn *controlNode, args ...string) string {
	t.Helper()
	r := runLMX(t, cn, args...)
	if r.Code != 0 {
		t.Fatalf("lmx %s: exit status %d, want 0; stderr: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r.Stdout
}

// sourceLs is `lmx source ls --json`.
func sourceLs(t *testing.T, cn *controlNode) []sourceJSON {
	t.Helper()
	out := mustLMX(t, cn, "source", "ls", "--json")
	var srcs []sourceJSON
	if err := json.Unmarshal([]byte(out), &srcs); err != nil {
		t.Fatalf("lmx source ls --json: not a JSON list of sources: %v\n%s", err, out)
	}
	return srcs
}

// edgeLs is `lmx edge ls --json`.
func edgeLs(t *testing.T, cn *controlNode) []edgeJSON {
	t.Helper()
	out := mustLMX(t, cn, "edge", "ls", "--json")
	var edges []edgeJSON
	if err := json.Unmarshal([]byte(out), &edges); err != nil {
		t.Fatalf("lmx edge ls --json: not a JSON list of edges: %v\n%s", err, out)
	}
	return edges
}

// waitSourceKnown waits until the control node has the source (auto
// registered on the first push).
func waitSourceKnown(t *testing.T, cn *controlNode, name string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, 200*time.Millisecond, "source "+name+" registered on the control node", func() (bool, string) {
		r, err := get(cn.apiURL + "/v1/source/" + url.PathEscape(name))
		if err != nil {
			return false, err.Error()
		}
		return r.Status == http.StatusOK, r.String()
	})
}

// ---------------------------------------------------------------------------
// ffmpeg and ffprobe

// startFFmpeg starts ffmpeg pushing a live 320x240 test pattern to the edge
// as source name, with 1 s segments written to dir.
func startFFmpeg(t *testing.T, e *edgeNode, name, dir string) *proc {
	t.Helper()
	return startFFmpegSegments(t, e, name, dir, 25)
}

// startFFmpegSegments is startFFmpeg with segments of frames/25 seconds.
func startFFmpegSegments(t *testing.T, e *edgeNode, name, dir string, frames int) *proc {
	t.Helper()
	gop := strconv.Itoa(frames)
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-an",
		"-f", "hls", "-hls_time", strconv.FormatFloat(float64(frames)/25, 'f', -1, 64), "-hls_list_size", "5",
		"-hls_flags", "delete_segments+independent_segments",
		"-hls_segment_filename", dir + "/" + name + "-%d.ts",
		"-headers", "Video-Source-Name: " + name + "\r\nMPEG-TS-URI-Prefix: file://" + dir + "\r\n",
		"-method", "POST", e.pushURL(),
	}
	return startProc(t, "ffmpeg "+name, false, ffmpegBin, args...)
}

// makeSegments encodes n one-second segments of a test pattern into dir as
// NAME-0.ts … and returns their playlist as ffmpeg wrote it.
func makeSegments(t *testing.T, dir, name string, n int) *hls.MediaPlaylist {
	t.Helper()
	pl := filepath.Join(dir, name+".m3u8")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffmpegBin, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=320x240:rate=25:duration=%d", n),
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
		"-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-an",
		"-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
		"-hls_segment_filename", filepath.Join(dir, name+"-%d.ts"), pl)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg making segments: %v\n%s", err, out)
	}
	f, err := os.Open(pl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := hls.ParseMediaPlaylist(f, 0)
	if err != nil {
		t.Fatalf("ffmpeg's own playlist: %v", err)
	}
	if len(p.Segments) < n {
		t.Fatalf("ffmpeg made %d segments, want %d", len(p.Segments), n)
	}
	return p
}

// probeStream is what ffprobe says of a playlist's video stream.
type probeStream struct {
	CodecName string `json:"codec_name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

// ffprobe runs ffprobe on u and returns its streams. opts are options for
// opening u, given before it (such as -tls_verify 1 -ca_file FILE).
func ffprobe(t *testing.T, u string, opts ...string) ([]probeStream, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"-v", "error"}, playerAuth(u)...)
	args = append(args, opts...)
	args = append(args, "-show_entries", "stream=codec_name,width,height", "-of", "json", u)
	cmd := exec.CommandContext(ctx, ffprobeBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ffprobe %s: %v: %s", u, err, stderr.String())
	}
	var res struct {
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("ffprobe output: %v: %s", err, out)
	}
	return res.Streams, nil
}

// expectH264 checks that ffprobe (with opts, see ffprobe) reads u as one
// h264 320x240 video stream.
func expectH264(t *testing.T, u string, opts ...string) {
	t.Helper()
	streams, err := ffprobe(t, u, opts...)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	t.Logf("ffprobe %s: %+v", u, streams)
	if len(streams) != 1 || streams[0].CodecName != "h264" || streams[0].Width != 320 || streams[0].Height != 240 {
		t.Errorf("ffprobe %s: streams %+v, want one h264 320x240", u, streams)
	}
}

// ---------------------------------------------------------------------------
// Playlists and metrics

// fetchPlaylist gets and parses a live playlist.
func fetchPlaylist(u string) (*hls.MediaPlaylist, *response, error) {
	r, err := get(u)
	if err != nil {
		return nil, nil, err
	}
	if r.Status != http.StatusOK {
		return nil, r, fmt.Errorf("GET %s: %s", u, r)
	}
	p, err := hls.ParseMediaPlaylist(bytes.NewReader(r.Body), 0)
	if err != nil {
		return nil, r, fmt.Errorf("GET %s: %w\n%s", u, err, r.Body)
	}
	return p, r, nil
}

// waitLive waits until the live playlist at u answers 200 and passes
// CheckLive (so it covers three target durations), and returns it.
func waitLive(t *testing.T, u string, timeout time.Duration) *hls.MediaPlaylist {
	t.Helper()
	var pl *hls.MediaPlaylist
	eventually(t, timeout, 250*time.Millisecond, "live playlist "+u+" full", func() (bool, string) {
		p, _, err := fetchPlaylist(u)
		if err != nil {
			return false, err.Error()
		}
		if err := hls.CheckLive(p); err != nil {
			return false, err.Error()
		}
		pl = p
		return true, ""
	})
	return pl
}

// resolve turns a playlist's segment URI into an absolute URL.
func resolve(playlistURL, uri string) string {
	base, err := url.Parse(playlistURL)
	if err != nil {
		return uri
	}
	ref, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	return base.ResolveReference(ref).String()
}

// metricValues returns the samples of a Prometheus metric family from the
// text exposition format, keyed by their label set as written ("" when none).
func metricValues(t *testing.T, cn *controlNode, name string) map[string]float64 {
	t.Helper()
	r, err := get(cn.apiURL + "/metrics")
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET /metrics: %v %v", err, r)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		metric, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		mname, labels := metric, ""
		if i := strings.IndexByte(metric, '{'); i >= 0 {
			mname, labels = metric[:i], metric[i:]
		}
		if mname != name {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[labels] = v
	}
	return out
}
