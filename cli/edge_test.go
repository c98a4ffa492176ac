package cli

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/lmx-video/lmx/api"
)

func TestEdgeLs(t *testing.T) {
	wantOK(t, runCLI(t, newFake(), "edge", "ls"), `NAME      STATUS      CREDENTIAL  VERSION  ADDRESS        SOURCES  LAST SEEN
cam-gw-1  online 5m   -           v0.1.0   10.0.0.5:9080  1        1s ago
cam-gw-2  offline 2h  -           v0.1.0   -              0        2h ago
`)
}

func TestEdgeLsEmpty(t *testing.T) {
	wantOK(t, runCLI(t, &fakeClient{}, "edge", "ls"), "no edges yet: "+addEdgeHint+"\n")
	wantOK(t, runCLI(t, &fakeClient{}, "edge", "ls", "--json"), "[]\n")
}

func TestEdgeLsJSON(t *testing.T) {
	r := runCLI(t, newFake(), "edge", "ls", "--json")
	var got []api.Edge
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(got) != 2 || got[0].Name != "cam-gw-1" || len(got[0].Sources) != 1 {
		t.Errorf("got %+v", got)
	}
}

func TestEdgeLsNotLmx(t *testing.T) {
	fc := &fakeClient{err: &api.StatusError{Status: http.StatusNotFound}}
	wantErr(t, runCLI(t, fc, "edge", "ls"), 1, "the server has no edge list (GET /v1/edge): is --server an lmx control node?")
}

func TestEdgeShow(t *testing.T) {
	wantOK(t, runCLI(t, newFake(), "edge", "show", "cam-gw-1"), `Name:        cam-gw-1
Status:      online 5m
Credential:  -
Version:     v0.1.0
Address:     10.0.0.5:9080
Started:     2025-03-01 11:55:00 (5m ago)
First seen:  2025-02-26 12:00:00 (3d ago)
Last seen:   2025-03-01 11:59:59 (1s ago)

SOURCE    STREAMING  LIVE    BITRATE     BUFFER        UPLOADED  DROPPED
camera-0  on         3s ago  1.2 Mbit/s  120s, 18 MiB  42        1
`)
	wantOK(t, runCLI(t, newFake(), "edge", "show", "cam-gw-2"), `Name:        cam-gw-2
Status:      offline 2h
Credential:  -
Version:     v0.1.0
Address:     -
Started:     -
First seen:  2025-02-26 12:00:00 (3d ago)
Last seen:   2025-03-01 10:00:00 (2h ago)
Sources:     none yet: push one with ffmpeg to the edge's ingest address
`)
}

func TestEdgeShowJSON(t *testing.T) {
	r := runCLI(t, newFake(), "edge", "show", "cam-gw-2", "--json")
	var got api.Edge
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if got.Name != "cam-gw-2" || got.Online {
		t.Errorf("got %+v", got)
	}
}

func TestEdgeShowNotFound(t *testing.T) {
	wantErr(t, runCLI(t, newFake(), "edge", "show", "cam-gw-9"), 1,
		`edge "cam-gw-9" not found; known edges: cam-gw-1, cam-gw-2`)
	wantErr(t, runCLI(t, &fakeClient{}, "edge", "show", "cam-gw-9"), 1,
		`edge "cam-gw-9" not found: there are no edges yet; `+addEdgeHint)
}
