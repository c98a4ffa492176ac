package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestControlNodeRestart stops the control node while a stream plays and
// starts it again 3 s later on the same data dir and ports: the edge
// (lmx-edge, never restarted) must reconnect by itself and the stream must
// come back.
func TestControlNodeRestart(t *testing.T) {
	t.Parallel()
	testRestart(t, restartCase{outage: 3 * time.Second, segmentFrames: 25})
}

// TestControlNodeRestartShortSegments is TestControlNodeRestart with
// half-second segments, run for 12 s before the restart: a live window then
// runs ahead of a seconds clock, which once made media sequence numbers go
// back after a restart (they now start at the Unix time in milliseconds).
func TestControlNodeRestartShortSegments(t *testing.T) {
	t.Parallel()
	testRestart(t, restartCase{outage: 3 * time.Second, segmentFrames: 12, runFor: 12 * time.Second})
}

// restartCase is how a restart test streams and how long the control node is away.
type restartCase struct {
	outage        time.Duration
	segmentFrames int           // frames per segment, at 25 fps
	runFor        time.Duration // streaming before the restart, at least
}

func testRestart(t *testing.T, c restartCase) {
	const src = "cam-r"
	cn := startControld(t)
	edge := startEdge(t, lmxEdgeBin, "edge-restart", cn, t.TempDir())
	startFFmpegSegments(t, edge, src, edge.allowDir, c.segmentFrames)
	waitSourceKnown(t, cn, src, 20*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	live := cn.liveURL(src)
	streaming := time.Now()
	waitLive(t, live, 20*time.Second)
	expectH264(t, live)
	time.Sleep(c.runFor - time.Since(streaming))

	// The last playlist before the restart, and its segments' bytes: no
	// later playlist may go back, and no URI may come to mean other bytes
	// (segments are served immutable).
	before, _, err := fetchPlaylist(live)
	if err != nil {
		t.Fatal(err)
	}
	oldBytes := map[string][]byte{}
	for _, s := range before.Segments {
		r := mustDo(t, http.MethodGet, resolve(live, s.URI), nil, nil)
		if err := checkSegment(r); err != nil {
			t.Fatalf("segment %s before the restart: %v", s.URI, err)
		}
		oldBytes[s.URI] = r.Body
	}
	lastOld := before.MediaSequence + uint64(len(before.Segments)) - 1
	t.Logf("before the restart: media sequence %d, last segment sequence %d", before.MediaSequence, lastOld)
	expectNoErrorsLogged(t, cn.proc)

	// SIGINT: must exit 0 within 5 s (Stop asserts both).
	cn.proc.Stop()
	if t.Failed() {
		t.FailNow()
	}
	down := time.Now()
	if c.outage > 0 {
		// The edge notices the control node is gone and keeps running.
		eventually(t, 10*time.Second, 100*time.Millisecond, "edge reports the control node disconnected", func() (bool, string) {
			r, err := get(edge.url + "/v1/status")
			if err != nil {
				return false, err.Error()
			}
			var st struct {
				Connected bool `json:"controld_connected"`
			}
			if err := json.Unmarshal(r.Body, &st); err != nil {
				return false, err.Error()
			}
			return !st.Connected, r.String()
		})
		time.Sleep(c.outage - time.Since(down)) // the outage itself, not a synchronisation
	}
	if edge.proc.Exited() {
		t.Fatalf("the edge exited while the control node was down (status %d)", edge.proc.ExitCode())
	}

	restarted := time.Now()
	cn.start()
	var after []string
	eventually(t, 30*time.Second, 250*time.Millisecond, "live playlist back with new segments after the restart", func() (bool, string) {
		p, _, err := fetchPlaylist(live)
		if err != nil {
			return false, err.Error()
		}
		after = after[:0]
		fresh := 0
		for _, s := range p.Segments {
			after = append(after, s.URI)
			if _, ok := oldBytes[s.URI]; !ok {
				fresh++
			}
		}
		if fresh == 0 {
			return false, "no new segments yet"
		}
		if p.MediaSequence <= lastOld {
			t.Errorf("after the restart EXT-X-MEDIA-SEQUENCE is %d, not above %d, the last sequence served before it: players that kept the old playlist see sequence numbers reused",
				p.MediaSequence, lastOld)
		}
		for _, s := range p.Segments {
			old, ok := oldBytes[s.URI]
			if !ok {
				continue
			}
			r, err := get(resolve(live, s.URI))
			if err == nil && r.Status == http.StatusOK && !bytes.Equal(r.Body, old) {
				t.Errorf("segment URI %s served other bytes before the restart (%d bytes) than after it (%d bytes), though served immutable",
					s.URI, len(old), len(r.Body))
			}
		}
		return true, ""
	})
	t.Logf("stream back %s after the restart (segments %v)", time.Since(restarted).Round(time.Millisecond), after)
	waitLive(t, live, 15*time.Second)
	expectH264(t, live)

	// The edge is online again, as the CLI reports it.
	eventually(t, 30*time.Second-time.Since(restarted), 500*time.Millisecond, "lmx edge ls shows the edge online", func() (bool, string) {
		for _, e := range edgeLs(t, cn) {
			if e.Name == edge.name {
				return e.Online, "online false"
			}
		}
		return false, "edge not listed"
	})
	if edge.proc.Exited() {
		t.Errorf("the edge process exited (status %d); it must ride out the control node's restart", edge.proc.ExitCode())
	}
	if v := metricValues(t, cn, "lmx_edges_online")[""]; v != 1 {
		t.Errorf("lmx_edges_online after the restart = %v, want 1", v)
	}
	r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/source/"+src, nil, nil)
	var got struct {
		Source sourceJSON `json:"source"`
	}
	decodeJSON(t, "GET /v1/source/"+src, r.Body, &got)
	if got.Source.Streaming != 1 || !got.Source.EdgeStreaming {
		t.Errorf("after the restart the source is %+v, want streaming 1 and edge_streaming true (state kept in SQLite)", got.Source)
	}
	expectNoErrorsLogged(t, cn.proc)
	expectNoErrorsLogged(t, edge.proc)
}
