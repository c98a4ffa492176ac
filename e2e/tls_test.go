package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/internal/tlsca"
)

// TestTLSEndToEnd runs a control node with its own CA (--tls on) and
// everything that talks to it over TLS: edges of both binaries that trust
// the node by the pin their join token carries and nothing else, ffprobe
// verifying the node against its CA file, live and recorded, and the CLI on
// the node's machine finding the server, the admin token and the CA by
// itself. A wrong pin, a CA the player was not given, or another CA given
// to the CLI all fail.
func TestTLSEndToEnd(t *testing.T) {
	t.Parallel()
	began := time.Now()
	cn := startControld(t, "--tls", "on", "--hostname", "127.0.0.1")
	if !strings.HasPrefix(cn.apiURL, "https://") || !strings.HasPrefix(cn.vodURL, "https://") {
		t.Fatalf("control node URLs %s, %s: want https", cn.apiURL, cn.vodURL)
	}
	caFile := filepath.Join(cn.dataDir, "tls", "ca.pem")
	pin := pinOfFile(t, caFile)

	// The node says where its CA is and what its pin is.
	eventually(t, 10*time.Second, 100*time.Millisecond, "controld prints its CA file and pin", func() (bool, string) {
		out := cn.proc.Output()
		return strings.Contains(out, "CA "+caFile) && strings.Contains(out, "pin "+pin), out
	})
	// And leaves them for the tools on its machine.
	var local api.LocalNode
	if b, err := os.ReadFile(filepath.Join(cn.dataDir, "local.json")); err != nil {
		t.Errorf("local.json: %v", err)
	} else if err := json.Unmarshal(b, &local); err != nil {
		t.Errorf("local.json: %v: %s", err, b)
	} else if local.APIURL != cn.apiURL || local.PlaybackURL != cn.vodURL || local.CAFile != caFile || !local.Auth {
		t.Errorf("local.json: %+v, want api_url %s, playback_url %s, ca_file %s, auth true", local, cn.apiURL, cn.vodURL, caFile)
	}
	// Plain HTTP is not served beside TLS.
	if r, err := get("http://" + loopback(cn.apiPort) + "/readyz"); err == nil && r.Status == http.StatusOK {
		t.Errorf("plain http://%s/readyz answered 200 on a TLS node", loopback(cn.apiPort))
	}

	// The join token names the TLS URLs and the node's pin.
	good := cn.joinToken(t, "edge-tls-badpin")
	j := parseJoinToken(t, good)
	if j.MQTT != cn.mqttURL || j.Ingest != cn.vodURL || j.CAPin != pin {
		t.Errorf("join token: mqtt %s, ingest %s, pin %s; want %s, %s, %s", j.MQTT, j.Ingest, j.CAPin, cn.mqttURL, cn.vodURL, pin)
	}

	// Edges of both binaries join by the pin (they are given no CA file,
	// and the system does not trust the node's CA) and stream.
	type stream struct {
		src  string
		edge *edgeNode
	}
	var streams []stream
	for _, e := range []struct{ bin, name, src string }{
		{lmxBin, "edge-tls-edged", "tls-cam-a"},
		{lmxEdgeBin, "edge-tls-lmxedge", "tls-cam-b"},
	} {
		edge := startEdge(t, e.bin, e.name, cn, t.TempDir())
		if out := edge.proc.Output(); !strings.Contains(out, "TLS pinned to the control node's CA "+pin) {
			t.Errorf("%s does not say its link is pinned to %s:\n%s", e.name, pin, out)
		}
		startFFmpeg(t, edge, e.src, edge.allowDir)
		streams = append(streams, stream{e.src, edge})
	}
	tlsOpts := []string{"-tls_verify", "1", "-ca_file", caFile}
	var liveURL string
	for _, s := range streams {
		waitSourceKnown(t, cn, s.src, 30*time.Second)
		mustLMX(t, cn, "source", "stream", "on", s.src, "--timeout", "30s")
		u := cn.grantURL(t, "source", s.src)
		if !strings.HasPrefix(u, cn.vodURL+"/") || !strings.Contains(u, "grant=") {
			t.Errorf("live grant URL %s: want a signed URL under %s", u, cn.vodURL)
		}
		checkTLSSegment(t, cn, u, waitLive(t, u, 30*time.Second))
		expectH264(t, u, tlsOpts...)
		liveURL = u
	}
	t.Logf("live over TLS from both edges after %s", time.Since(began).Round(time.Millisecond))

	// Verification is on: without the node's CA, ffprobe refuses it.
	if streams, err := ffprobe(t, liveURL, "-tls_verify", "1"); err == nil {
		t.Errorf("ffprobe -tls_verify 1 without -ca_file read %s (%+v): the node's CA is trusted without being given", liveURL, streams)
	} else {
		t.Logf("ffprobe -tls_verify 1 without -ca_file: %v", err)
		if !strings.Contains(strings.ToLower(err.Error()), "certificate") {
			t.Errorf("ffprobe -tls_verify 1 without -ca_file failed, but not on the certificate: %v", err)
		}
	}

	// A recording, reaching back into the edge's buffer, played the same way.
	src := streams[0].src
	rec := startRecordingAPI(t, cn, src, time.Now().Add(-4*time.Second))
	eventually(t, 30*time.Second, 250*time.Millisecond, "recording "+rec.ID+" holds 3 segments", func() (bool, string) {
		got := getRecording(t, cn, rec.ID)
		return got.Segments >= 3, fmt.Sprintf("%d segments", got.Segments)
	})
	r := mustDo(t, http.MethodPost, cn.apiURL+"/v1/recording/"+url.PathEscape(rec.ID)+"/stop", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("stop recording %s: %s", rec.ID, r)
	}
	recURL := cn.grantURL(t, "recording", rec.ID)
	if pl, _, err := fetchPlaylist(recURL); err != nil {
		t.Errorf("stopped recording's playlist: %v", err)
	} else if pl.PlaylistType != "VOD" || !pl.EndList || len(pl.Segments) < 3 {
		t.Errorf("stopped recording's playlist: type %q, endlist %v, %d segments; want VOD, EXT-X-ENDLIST, at least 3", pl.PlaylistType, pl.EndList, len(pl.Segments))
	} else {
		checkTLSSegment(t, cn, recURL, pl)
	}
	expectH264(t, recURL, tlsOpts...)

	// The CLI on the node's machine: nothing but LMX_DATA_DIR.
	local0 := []string{"LMX_DATA_DIR=" + cn.dataDir, "LMX_SERVER=", "LMX_TOKEN=", "LMX_CA_FILE="}
	if res := runCLI(t, local0, "source", "ls", "--json"); res.Code != 0 {
		t.Errorf("lmx source ls --json with LMX_DATA_DIR alone: exit %d: %s", res.Code, res.Stderr)
	} else {
		var srcs []sourceJSON
		if err := json.Unmarshal([]byte(res.Stdout), &srcs); err != nil {
			t.Errorf("lmx source ls --json: %v: %s", err, res.Stdout)
		}
		for _, s := range streams {
			found := false
			for _, got := range srcs {
				found = found || got.Name == s.src && got.Edge == s.edge.name
			}
			if !found {
				t.Errorf("lmx source ls --json does not list %s on %s: %+v", s.src, s.edge.name, srcs)
			}
		}
	}
	// Another CA than the node's: the CLI refuses the node's certificate.
	other, err := tlsca.Ensure(t.TempDir(), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, local0, "--server", cn.apiURL, "source", "ls", "--json",
		"--token", cn.adminToken, "--ca-file", other.CAFile); res.Code == 0 {
		t.Errorf("lmx source ls with --ca-file of another CA: exit 0, want a certificate error: %s", res.Stdout)
	} else if !strings.Contains(res.Stderr, "certificate is not signed by the CA in "+other.CAFile) {
		t.Errorf("lmx source ls with --ca-file of another CA: stderr %q does not say the certificate is not signed by the CA in %s", res.Stderr, other.CAFile)
	}

	// An edge whose join token pins another CA refuses the node.
	if other.Pin == pin {
		t.Fatalf("two CAs with one pin %s", pin)
	}
	j.CAPin = other.Pin
	bad, err := j.Encode()
	if err != nil {
		t.Fatal(err)
	}
	badState := t.TempDir()
	badEdge := startProc(t, "edge "+j.Edge, false, lmxEdgeBin,
		"--listen", loopback(freePort(t)), "--allow-dir", t.TempDir(), "--state-dir", badState, "--heartbeat", "1s", "--join", bad)
	eventually(t, 20*time.Second, 100*time.Millisecond, "edge "+j.Edge+" says the pin check failed", func() (bool, string) {
		return strings.Contains(badEdge.Output(), "CA pin check failed"), badEdge.Output()
	})
	eventually(t, 10*time.Second, 100*time.Millisecond, "edge "+j.Edge+" gives up", func() (bool, string) {
		return badEdge.Exited(), "still running"
	})
	if code := badEdge.ExitCode(); code == 0 {
		t.Errorf("edge %s with a wrong pin exited 0, want a failure", j.Edge)
	}
	if e, ok := findEdge(t, cn, j.Edge); !ok || e.Online {
		t.Errorf("edge %s with a wrong pin: listed %v, online %v; want listed (it was added) and offline", j.Edge, ok, e.Online)
	}
	if _, err := os.Stat(filepath.Join(badState, "credential.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("edge %s with a wrong pin kept a credential (%v)", j.Edge, err)
	}
	badEdge.Stop()
	// The join secret never reached the node: the token with the right pin
	// still joins.
	fixed := startProc(t, "edge "+j.Edge+"#2", true, lmxBin, "edged",
		"--listen", loopback(freePort(t)), "--allow-dir", t.TempDir(), "--state-dir", t.TempDir(), "--heartbeat", "1s", "--join", good)
	waitEdgeOnline(t, cn, j.Edge, 20*time.Second)
	fixed.Stop()
	t.Logf("TestTLSEndToEnd took %s", time.Since(began).Round(time.Millisecond))
}

// TestTLSOperatorCertificate gives the control node a certificate of the
// operator's own CA (--tls-cert/--tls-key): every listener serves it, and
// an edge joins by the pin of that CA, which its join token carries.
func TestTLSOperatorCertificate(t *testing.T) {
	t.Parallel()
	began := time.Now()
	dir := t.TempDir()
	ca, leaf, certFile, keyFile := operatorCert(t, dir)
	caOnly := x509.NewCertPool()
	caOnly.AddCert(ca)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}

	cn := startControld(t, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(cn.apiURL, "https://") || !strings.HasPrefix(cn.mqttURL, "mqtts://") {
		t.Fatalf("control node URLs %s, %s: want https and mqtts", cn.apiURL, cn.mqttURL)
	}

	// A client that trusts the operator's CA, and nothing else, is served
	// the operator's certificate on the management API and on playback.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: caOnly},
	}}
	defer client.CloseIdleConnections()
	for _, u := range []string{cn.apiURL + "/readyz", cn.vodURL + "/healthz"} {
		resp, err := client.Get(u)
		if err != nil {
			t.Errorf("GET %s trusting the operator's CA: %v", u, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", u, resp.StatusCode)
		}
		if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 || !resp.TLS.PeerCertificates[0].Equal(leaf) {
			t.Errorf("GET %s: the node did not present the operator's certificate", u)
		}
	}
	// The system does not trust that CA: a client without it is refused.
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(cn.apiURL + "/readyz"); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s/readyz with the system's roots succeeded: the operator's CA is trusted without being given", cn.apiURL)
	} else if ua := (x509.UnknownAuthorityError{}); !errors.As(err, &ua) {
		t.Errorf("GET %s/readyz with the system's roots: %v, want an unknown authority", cn.apiURL, err)
	}
	// MQTT is TLS on the port it was given, with the same certificate.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", loopback(cn.mqttPort),
		&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: caOnly, ServerName: "127.0.0.1"})
	if err != nil {
		t.Errorf("TLS to the MQTT port %d trusting the operator's CA: %v", cn.mqttPort, err)
	} else {
		if peer := conn.ConnectionState().PeerCertificates; len(peer) == 0 || !peer[0].Equal(leaf) {
			t.Errorf("MQTT port %d: the node did not present the operator's certificate", cn.mqttPort)
		}
		conn.Close()
	}
	if out := cn.proc.Output(); !strings.Contains(out, cn.mqttURL) {
		t.Errorf("controld does not print its MQTT broker as %s:\n%s", cn.mqttURL, out)
	}

	// The join token pins the operator's CA; an edge joins by it alone,
	// and its segments reach players over TLS.
	wantPin := "sha256/" + base64.RawURLEncoding.EncodeToString(sha256Sum(ca.Raw))
	if j := parseJoinToken(t, cn.joinToken(t, "edge-tls-probe")); j.CAPin != wantPin || j.MQTT != cn.mqttURL || j.Ingest != cn.vodURL {
		t.Errorf("join token: mqtt %s, ingest %s, pin %s; want %s, %s and the operator's CA pin %s", j.MQTT, j.Ingest, j.CAPin, cn.mqttURL, cn.vodURL, wantPin)
	}
	const src = "tls-op-cam"
	edge := startEdge(t, lmxEdgeBin, "edge-tls-op", cn, t.TempDir())
	if out := edge.proc.Output(); !strings.Contains(out, "TLS pinned to the control node's CA "+wantPin) {
		t.Errorf("the edge does not say its link is pinned to %s:\n%s", wantPin, out)
	}
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 30*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	u := cn.grantURL(t, "source", src)
	waitLive(t, u, 30*time.Second)
	expectH264(t, u, "-tls_verify", "1", "-ca_file", caFile)
	t.Logf("TestTLSOperatorCertificate took %s", time.Since(began).Round(time.Millisecond))
}

// checkTLSSegment checks that the first segment of a playlist served at
// playlistURL is under the node's https playback URL and is served there
// (to the harness's client, which trusts the node's CA alone).
func checkTLSSegment(t *testing.T, cn *controlNode, playlistURL string, pl *hls.MediaPlaylist) {
	t.Helper()
	if len(pl.Segments) == 0 {
		t.Errorf("%s lists no segment", playlistURL)
		return
	}
	u := resolve(playlistURL, pl.Segments[0].URI)
	if !strings.HasPrefix(u, cn.vodURL+"/") {
		t.Errorf("segment %s of %s: want it under %s", u, playlistURL, cn.vodURL)
		return
	}
	r, err := get(u)
	if err == nil {
		err = checkSegment(r)
	}
	if err != nil {
		t.Errorf("segment %s: %v", u, err)
	}
}

// pinOfFile is the pin of the CA certificate in a PEM file, computed here
// from its DER: "sha256/" and the unpadded base64url SHA-256.
func pinOfFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the node's CA: %v", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return "sha256/" + base64.RawURLEncoding.EncodeToString(sha256Sum(block.Bytes))
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// parseJoinToken decodes a join token as the edge does.
func parseJoinToken(t *testing.T, tok string) secret.Join {
	t.Helper()
	j, err := secret.ParseJoin(tok)
	if err != nil {
		t.Fatalf("join token: %v", err)
	}
	return j
}

// findEdge is the edge named name in GET /v1/edge.
func findEdge(t *testing.T, cn *controlNode, name string) (edgeJSON, bool) {
	t.Helper()
	r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/edge", nil, nil)
	var out struct {
		Edges []edgeJSON `json:"edges"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET /v1/edge: %v: %s", err, r)
	}
	for _, e := range out.Edges {
		if e.Name == name {
			return e, true
		}
	}
	return edgeJSON{}, false
}

// startRecordingAPI is POST /v1/source/{id}/recording from since.
func startRecordingAPI(t *testing.T, cn *controlNode, src string, since time.Time) recordingJSON {
	t.Helper()
	body := `{"start_time_epoch":` + strconv.FormatInt(since.Unix(), 10) + `}`
	r := mustDo(t, http.MethodPost, cn.apiURL+"/v1/source/"+url.PathEscape(src)+"/recording", nil, strings.NewReader(body))
	var out struct {
		Recording recordingJSON `json:"recording"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != http.StatusOK || out.Recording.ID == "" {
		t.Fatalf("start recording of %s: %v: %s", src, err, r)
	}
	return out.Recording
}

// operatorCert makes an operator's CA and a server certificate it issued
// for 127.0.0.1, as an operator's own PKI would, and writes the chain
// (server certificate, then the CA) and the server's key into dir.
func operatorCert(t *testing.T, dir string) (ca, leaf *x509.Certificate, certFile, keyFile string) {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "e2e operator CA", Organization: []string{"e2e"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "e2e control node", Organization: []string{"e2e"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	if leaf, err = x509.ParseCertificate(leafDER); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "key.pem")
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	if err := os.WriteFile(certFile, chain, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return ca, leaf, certFile, keyFile
}
