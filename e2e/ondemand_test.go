package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// onDemandSource is what the API says of an on-demand source.
type onDemandSource struct {
	ID            string `json:"id"`
	Streaming     int    `json:"streaming"`
	OnDemand      bool   `json:"on_demand"`
	Awake         bool   `json:"awake"`
	IdleSeconds   int    `json:"idle_seconds"`
	EdgeStreaming bool   `json:"edge_streaming"`
}

func getOnDemand(t *testing.T, cn *controlNode, name string) onDemandSource {
	t.Helper()
	r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/source/"+url.PathEscape(name), nil, nil)
	var out struct {
		Source onDemandSource `json:"source"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil {
		t.Fatalf("GET /v1/source/%s: %s", name, r)
	}
	return out.Source
}

// uploadCounts are what the control node and the edge counted of a
// source's uploads.
type uploadCounts struct {
	segmentsIn, bytesIn float64 // control node: every segment received
	liveUploaded        uint64  // edge: segments uploaded live
	buffered            float64 // edge: seconds buffered
}

func countUploads(t *testing.T, cn *controlNode, e *edgeNode, src string) uploadCounts {
	t.Helper()
	label := `{source="` + src + `"}`
	es, err := edgeSource(e, src)
	if err != nil {
		t.Fatal(err)
	}
	return uploadCounts{
		segmentsIn:   metricValues(t, cn, "lmx_segments_in_total")[label],
		bytesIn:      metricValues(t, cn, "lmx_segment_bytes_in_total")[label],
		liveUploaded: es.Uploaded,
		buffered:     es.BufferedSeconds,
	}
}

// TestOnDemand pushes an on-demand source with real ffmpeg into a real
// edge. Nobody watching: the control node receives no segment for 30 s
// while the edge keeps buffering, and a playlist request that may not
// watch wakes nothing. The first playlist request with a grant answers a
// playlist ffprobe decodes within 1.5 s. After --idle without requests the
// edge stops uploading again, and a recording started while asleep still
// gets its segments, with no live upload.
func TestOnDemand(t *testing.T) {
	const src, idle = "cam-od", 5 * time.Second
	cn := startControld(t)
	edge := startEdge(t, lmxBin, "edge-od", cn, t.TempDir())
	mustLMX(t, cn, "source", "add", src, "--segment-len", "1")
	out := mustLMX(t, cn, "source", "set", src, "--on-demand", "--idle", idle.String())
	if !strings.Contains(out, "On demand:") || !strings.Contains(out, "asleep") {
		t.Errorf("lmx source set --on-demand:\n%s\nwant an \"On demand: asleep\" line", out)
	}
	// Streaming on for an on-demand source returns at once: the edge is
	// right not to stream while nobody watches.
	if out := mustLMX(t, cn, "source", "stream", "on", src); !strings.Contains(out, "streaming on demand") {
		t.Errorf("lmx source stream on: %q, want it to say on demand", out)
	}
	startFFmpeg(t, edge, src, edge.allowDir)
	waitBuffered(t, edge, src, 6, 30*time.Second)

	// Nobody watches for 30 s.
	c0 := countUploads(t, cn, edge, src)
	if c0.segmentsIn != 0 || c0.liveUploaded != 0 {
		t.Fatalf("before anyone watched: %+v, want nothing uploaded", c0)
	}
	// A player without a grant is refused, and wakes nothing.
	anon := http.Header{anonymous: {"1"}}
	expectError(t, "live playlist without a grant", mustDo(t, http.MethodGet, cn.liveURL(src), anon, nil), http.StatusForbidden, true, "grant")
	quiet := 30 * time.Second
	for end := time.Now().Add(quiet); time.Now().Before(end); time.Sleep(3 * time.Second) {
		c := countUploads(t, cn, edge, src)
		if c.segmentsIn != 0 || c.liveUploaded != 0 {
			t.Fatalf("nobody watching, yet uploads: %+v", c)
		}
		if s := getOnDemand(t, cn, src); s.Awake || s.EdgeStreaming {
			t.Fatalf("nobody watching, yet %+v", s)
		}
	}
	c1 := countUploads(t, cn, edge, src)
	if c1.segmentsIn != 0 || c1.bytesIn != 0 || c1.liveUploaded != 0 {
		t.Fatalf("after %s unwatched: %+v, want 0 segments and 0 bytes received", quiet, c1)
	}
	if c1.buffered < 6 {
		t.Errorf("after %s unwatched the edge buffers %.1f s, want it to keep buffering", quiet, c1.buffered)
	}
	t.Logf("%s unwatched: 0 segments and 0 bytes received by the control node; the edge buffers %.1f s", quiet, c1.buffered)
	if v := metricValues(t, cn, "lmx_ondemand_wakeups_total")[""]; v != 0 {
		t.Errorf("lmx_ondemand_wakeups_total %v before any authorized request, want 0", v)
	}

	// The first playlist request, as a player with a signed URL makes it.
	play := cn.grantURL(t, "source", src)
	t0 := time.Now()
	r := mustDo(t, http.MethodGet, play, anon, nil)
	took := time.Since(t0)
	if r.Status != http.StatusOK {
		t.Fatalf("first playlist request: %s", r)
	}
	pl, err := hls.ParseMediaPlaylist(bytes.NewReader(r.Body), 0)
	if err != nil {
		t.Fatalf("first playlist: %v\n%s", err, r.Body)
	}
	t.Logf("first playlist request answered in %s with %d segments", took.Round(time.Millisecond), len(pl.Segments))
	if took > 1500*time.Millisecond {
		t.Errorf("first playlist request took %s, want a playable playlist within 1.5 s", took)
	}
	if len(pl.Segments) < 3 {
		t.Errorf("first playlist lists %d segments, want at least 3 (the edge buffers %.1f s)\n%s", len(pl.Segments), c1.buffered, r.Body)
	}
	expectH264(t, play)
	if s := getOnDemand(t, cn, src); !s.Awake {
		t.Errorf("after a playlist request: %+v, want awake", s)
	}
	if out := mustLMX(t, cn, "source", "show", src); !strings.Contains(out, "awake") {
		t.Errorf("lmx source show while watched:\n%s\nwant it awake", out)
	}
	if v := metricValues(t, cn, "lmx_ondemand_wakeups_total")[""]; v != 1 {
		t.Errorf("lmx_ondemand_wakeups_total %v, want 1", v)
	}
	if v := metricValues(t, cn, "lmx_ondemand_wake_seconds_count")[""]; v != 1 {
		t.Errorf("lmx_ondemand_wake_seconds_count %v, want 1", v)
	}

	// Watched for a while (a player reloads every target duration): it
	// stays awake past its idle time and the playlist moves on.
	for range 8 {
		time.Sleep(time.Second)
		if _, r, err := fetchPlaylist(play); err != nil {
			t.Fatalf("while watched: %v (%v)", err, r)
		}
	}
	woke := countUploads(t, cn, edge, src)
	if woke.liveUploaded < 8 || woke.segmentsIn < 8 {
		t.Errorf("after 8 s watched: %+v, want the live uploads flowing", woke)
	}

	// Nobody watches any more: asleep within idle and a tick.
	stopped := time.Now()
	eventually(t, idle+5*time.Second, 250*time.Millisecond, "the source asleep after --idle", func() (bool, string) {
		s := getOnDemand(t, cn, src)
		return !s.Awake && !s.EdgeStreaming, fmt.Sprintf("%+v", s)
	})
	t.Logf("asleep %s after the last playlist request (idle %s)", time.Since(stopped).Round(100*time.Millisecond), idle)
	if since := time.Since(stopped); since < idle-time.Second {
		t.Errorf("asleep %s after the last request, before its idle time %s", since, idle)
	}
	// Uploads stop: nothing more for 8 s (8 segments' worth).
	time.Sleep(time.Second) // an upload on its way when the edge stopped
	a0 := countUploads(t, cn, edge, src)
	time.Sleep(8 * time.Second)
	a1 := countUploads(t, cn, edge, src)
	if a1.segmentsIn != a0.segmentsIn || a1.liveUploaded != a0.liveUploaded {
		t.Errorf("asleep, uploads went on: %+v → %+v", a0, a1)
	}
	if a1.buffered < 6 {
		t.Errorf("asleep, the edge buffers %.1f s, want it to keep buffering", a1.buffered)
	}
	expectError(t, "a segment request for the sleeping source", mustDo(t, http.MethodGet, resolve(play, pl.Segments[0].URI), anon, nil), http.StatusNotFound, true, "on demand and asleep")
	if s := getOnDemand(t, cn, src); s.Awake {
		t.Errorf("a segment request woke the source: %+v", s)
	}

	// A recording started while asleep gets its segments (3 s from the
	// buffer, then new ones) and nothing goes live.
	rec := recStart(t, cn, src, "-3s")
	eventually(t, 20*time.Second, 500*time.Millisecond, "the recording made while asleep gets segments", func() (bool, string) {
		got := getRecording(t, cn, rec.ID)
		return got.Segments >= 8, fmt.Sprintf("%d segments", got.Segments)
	})
	recStop(t, cn, rec.ID)
	r1 := countUploads(t, cn, edge, src)
	if r1.liveUploaded != a1.liveUploaded {
		t.Errorf("recording while asleep sent %d live uploads, want none", r1.liveUploaded-a1.liveUploaded)
	}
	if s := getOnDemand(t, cn, src); s.Awake {
		t.Errorf("recording woke the source: %+v", s)
	}
	t.Logf("recording while asleep: %.0f segments received for it, no live upload", r1.segmentsIn-a1.segmentsIn)
	for _, want := range []string{"on-demand source woken", "on-demand source idle"} {
		if !strings.Contains(cn.proc.Output(), want) {
			t.Errorf("control node log has no %q", want)
		}
	}
}
