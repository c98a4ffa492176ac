package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

func TestEdgeAdd(t *testing.T) {
	fc := authFake()
	r := runCLI(t, fc, "edge", "add", "cam-gw-3")
	// Just the command on stdout, so $(lmx edge add …) is the command.
	wantOut(t, r, fakeCommand+"\n", `added edge cam-gw-3: run the line above on its machine
its join token works once, until 2025-03-01 13:00:00 (in 1h)
`)
	if c := lastAuth(t, fc); c.edge != (api.NewEdge{Name: "cam-gw-3"}) {
		t.Errorf("asked for %+v", c.edge)
	}
}

func TestEdgeAddFlags(t *testing.T) {
	fc := authFake()
	r := runCLI(t, fc, "edge", "add", "cam-gw-3", "--ttl", "2d", "--host", "ctl.example.net")
	if r.code != 0 || r.stdout != fakeCommand+"\n" || !strings.Contains(r.stderr, "until 2025-03-03 12:00:00 (in 2d)") {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if c := lastAuth(t, fc); c.edge != (api.NewEdge{Name: "cam-gw-3", TTLSeconds: 2 * 86400, Host: "ctl.example.net"}) {
		t.Errorf("asked for %+v", c.edge)
	}
}

func TestEdgeAddJSON(t *testing.T) {
	r := runCLI(t, authFake(), "edge", "add", "cam-gw-3", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		Edge      api.Edge  `json:"edge"`
		JoinToken string    `json:"join_token"`
		ExpiresAt time.Time `json:"expires_at"`
		Command   string    `json:"command"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	if got.Edge.Name != "cam-gw-3" || got.Edge.Credential != api.CredentialPending || got.JoinToken != fakeJoin ||
		got.Command != fakeCommand || !got.ExpiresAt.Equal(testNow.Add(time.Hour)) {
		t.Errorf("got %+v", got)
	}
	if strings.Contains(r.stdout, "request_id") {
		t.Errorf("the envelope leaked into the output:\n%s", r.stdout)
	}
}

func TestEdgeAddRefused(t *testing.T) {
	fc := authFake()
	fc.err = &api.StatusError{Status: http.StatusConflict, Message: `edge "cam-gw-1" has joined`, Detail: "revoke it first"}
	wantErr(t, runCLI(t, fc, "edge", "add", "cam-gw-1"), 1, `adding edge "cam-gw-1": edge "cam-gw-1" has joined (revoke it first)`)
}

func TestEdgeLsCredential(t *testing.T) {
	fc := authFake()
	fc.edges[0].Credential = api.CredentialRevoked
	fc.edges = append(fc.edges, api.Edge{Name: "cam-gw-3", Credential: api.CredentialPending, FirstSeen: testNow.Add(-time.Minute)})
	wantOK(t, runCLI(t, fc, "edge", "ls"), `NAME      STATUS      CREDENTIAL  VERSION  ADDRESS        SOURCES  LAST SEEN
cam-gw-1  online 5m   joined      v0.1.0   10.0.0.5:9080  1        1s ago
cam-gw-2  offline 2h  revoked     v0.1.0   -              0        2h ago
cam-gw-3  offline     pending     -        -              0        -
`)
}

func TestEdgeShowCredential(t *testing.T) {
	fc := authFake()
	fc.edges[0].Credential = api.CredentialRevoked
	r := runCLI(t, fc, "edge", "show", "cam-gw-2")
	wantOK(t, r, `Name:        cam-gw-2
Status:      offline 2h
Credential:  revoked (lmx edge restore cam-gw-2 lets it back in)
Version:     v0.1.0
Address:     -
Started:     -
First seen:  2025-02-26 12:00:00 (3d ago)
Last seen:   2025-03-01 10:00:00 (2h ago)
Sources:     none yet: push one with ffmpeg to the edge's ingest address
`)
	if c := lastAuth(t, fc); c.method != "GetEdge" || c.ref != "cam-gw-2" {
		t.Errorf("asked for %+v", c)
	}
	if strings.Contains(strings.Join(fc.calls, " "), "ListEdges") {
		t.Errorf("listed the edges to show one: %v", fc.calls)
	}
}

// TestEdgeShowOlderServer: a control node without GET /v1/edge/{name}
// answers 404 there; the list still has the edge.
func TestEdgeShowOlderServer(t *testing.T) {
	fc := authFake()
	fc.onCall = func(method string) {
		if method == "GetEdge" {
			fc.err = &api.StatusError{Status: http.StatusNotFound}
		} else {
			fc.err = nil
		}
	}
	r := runCLI(t, fc, "edge", "show", "cam-gw-1", "--json")
	var got api.Edge
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Name != "cam-gw-1" || got.Credential != api.CredentialJoined {
		t.Errorf("exit %d, %v: %+v\n%s", r.code, err, got, r.stderr)
	}
}

func TestEdgeRevokeRestore(t *testing.T) {
	fc := authFake()
	wantOK(t, runCLI(t, fc, "edge", "revoke", "cam-gw-1"),
		"revoked edge cam-gw-1: it is disconnected and its uploads are refused; lmx edge restore cam-gw-1 lets it back in\n")
	if fc.edges[1].Credential != api.CredentialRevoked {
		t.Errorf("not revoked: %+v", fc.edges[1])
	}
	wantOK(t, runCLI(t, fc, "edge", "restore", "cam-gw-1"), "restored edge cam-gw-1: it may connect again with its credential\n")
	if c := lastAuth(t, fc); c.method != "RestoreEdge" || c.ref != "cam-gw-1" || fc.edges[1].Credential != api.CredentialJoined {
		t.Errorf("asked for %+v; edge %+v", c, fc.edges[1])
	}
	for _, cmd := range []string{"revoke", "restore"} {
		r := runCLI(t, fc, "edge", cmd, "cam-gw-1", "--json")
		var got api.Edge
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Name != "cam-gw-1" {
			t.Errorf("%s --json: %v: %+v", cmd, err, got)
		}
	}
}

func TestEdgeRevokeNotFound(t *testing.T) {
	for _, cmd := range []string{"revoke", "restore"} {
		wantErr(t, runCLI(t, authFake(), "edge", cmd, "cam-gw-9"), 1, `edge "cam-gw-9" not found: see lmx edge ls`)
	}
}
