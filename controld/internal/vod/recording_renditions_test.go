package vod_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/metrics"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/controld/internal/vod"
	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/objstore"
	"github.com/lmx-video/lmx/sqlstore"
)

// The canned recordings have no renditions.
func (f *fakeRecordings) RenditionPlaylist(_ context.Context, id, rendition string) (recording.Playlist, error) {
	return recording.Playlist{}, fmt.Errorf("%w: recording %s has no rendition %q", recording.ErrNotFound, id, rendition)
}

func (f *fakeRecordings) RenditionSegment(_ context.Context, id, rendition string, _ uint64) (*recording.Body, error) {
	return nil, fmt.Errorf("%w: recording %s has no rendition %q", recording.ErrNotFound, id, rendition)
}

func (f *fakeRecordings) RenditionInitSegment(_ context.Context, id, rendition, _ string) (*recording.Body, error) {
	return nil, fmt.Errorf("%w: recording %s has no rendition %q", recording.ErrNotFound, id, rendition)
}

// abrRecording is a stopped recording of two renditions, "0" and "1",
// three segments each, replayed by real Recordings.
type abrRecording struct {
	recs *recording.Recordings
	id   string
	// body is each segment's bytes, by rendition and seq.
	body map[string]map[string]string
}

func newABRRecording(t *testing.T) *abrRecording {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir, err := objstore.NewDir(filepath.Join(t.TempDir(), "objects"))
	if err != nil {
		t.Fatal(err)
	}
	counter := func() prometheus.Counter { return prometheus.NewCounter(prometheus.CounterOpts{Name: "c"}) }
	recs, err := recording.New(recording.Config{SpoolDir: filepath.Join(t.TempDir(), "spool"), CacheSize: 4 << 20}, st, dir,
		recording.Series{
			Gauges:   recording.Gauges{Spooled: prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"}), Persist: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h"})},
			Recorded: counter(), CacheHits: counter(), CacheMisses: counter(), CacheRejected: counter(),
		}, logger())
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = recs.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	src, err := st.CreateSource(ctx, sqlstore.Source{Name: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rec, err := st.CreateRecording(ctx, sqlstore.Recording{SourceID: src.ID, StartAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	a := &abrRecording{recs: recs, id: rec.ID, body: map[string]map[string]string{"0": {}, "1": {}}}
	for i := range 3 {
		for _, r := range []string{"0", "1"} {
			data := fmt.Sprintf("rendition %s segment %d", r, i)
			seg := recording.Segment{SourceID: src.ID, Edge: "gw", Boot: "b", EdgeSeq: uint64(2*i + len(r)), Duration: 2,
				Start: t0.Add(time.Duration(i) * 2 * time.Second), Arrived: t0, Rendition: r, RenditionSeq: uint64(i + 1)}
			if _, _, err := recs.Record(ctx, seg, []string{rec.ID}, []byte(data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := st.StopRecording(ctx, rec.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	segs, err := st.RecordingSegments(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range segs {
		a.body[s.Rendition][fmt.Sprint(s.Seq)] = fmt.Sprintf("rendition %s segment %d", s.Rendition, i/2)
	}
	return a
}

// startReplaying is a node whose recordings are recs, guarded by guard.
func startReplaying(t *testing.T, recs vod.Recordings, guard vod.Guard) *node {
	t.Helper()
	n := &node{live: live.New(live.Config{Segments: 3, MemoryLimit: 1 << 20}, live.Gauges{}, logger()), sources: &fakeSources{}, ingest: &fakeIngest{}}
	srv := vod.New(vod.Config{MaxBodyBytes: 1 << 20, CORSOrigin: origin}, n.live, n.sources, recs, n.ingest, guard, metrics.New(), logger())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	tr := &http.Transport{}
	n.hc = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	n.base = "http://" + ln.Addr().String()
	return n
}

// uriLines are the URI lines of a playlist.
func uriLines(body []byte) []string {
	var out []string
	for line := range strings.SplitSeq(strings.TrimSuffix(string(body), "\n"), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// follow is the request path of uri as a player resolves it against the
// playlist at path.
func follow(t *testing.T, path, uri string) string {
	t.Helper()
	base, _ := url.Parse("http://x" + path)
	ref, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("URI %q: %v", uri, err)
	}
	return base.ResolveReference(ref).RequestURI()
}

// TestRecordingRenditionsPlay: the playlist of a recording of two
// renditions is multivariant; each variant's playlist, followed as a
// player follows it, lists that rendition's segments, which play under
// the rendition's path and under the recording's; a segment of the other
// rendition, an unknown rendition and a malformed name are 404s.
func TestRecordingRenditionsPlay(t *testing.T) {
	a := newABRRecording(t)
	n := startReplaying(t, a.recs, vod.Guard{})
	top := api.RecordingPlaylistPath(a.id)
	m := n.get(t, top).wantStatus(t, http.StatusOK)
	if m.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" || !hls.IsMultivariant(m.body) {
		t.Fatalf("recording playlist (%s):\n%s", m.Header.Get("Content-Type"), m.body)
	}
	variants := uriLines(m.body)
	if len(variants) != 2 || variants[0] != "0/vid.m3u8" || variants[1] != "1/vid.m3u8" {
		t.Fatalf("variants %v, want 0/vid.m3u8 and 1/vid.m3u8", variants)
	}
	for i, v := range variants {
		rendition := fmt.Sprint(i)
		vpath := follow(t, top, v)
		vp := n.get(t, vpath).wantStatus(t, http.StatusOK)
		pl, err := hls.ParseMediaPlaylist(strings.NewReader(string(vp.body)), 0)
		if err != nil {
			t.Fatalf("rendition %s: %v\n%s", rendition, err, vp.body)
		}
		if len(pl.Segments) != 3 || !pl.EndList {
			t.Fatalf("rendition %s playlist:\n%s", rendition, vp.body)
		}
		for _, s := range pl.Segments {
			seq := strings.TrimSuffix(s.URI, ".ts")
			want := a.body[rendition][seq]
			if want == "" {
				t.Fatalf("rendition %s lists segment %s of another rendition", rendition, s.URI)
			}
			got := n.get(t, follow(t, vpath, s.URI)).wantStatus(t, http.StatusOK)
			if string(got.body) != want || got.Header.Get("Content-Type") != "video/mp2t" {
				t.Errorf("%s: %q (%s), want %q", follow(t, vpath, s.URI), got.body, got.Header.Get("Content-Type"), want)
			}
			// ../{seq}.ts, the recording's own path, serves it too.
			if up := n.get(t, follow(t, vpath, "../"+s.URI)).wantStatus(t, http.StatusOK); string(up.body) != want {
				t.Errorf("../%s: %q, want %q", s.URI, up.body, want)
			}
		}
	}
	var seqOf1 string
	for seq := range a.body["1"] {
		seqOf1 = seq
	}
	base := api.PathRecordingPrefix + a.id + "/"
	for path, want := range map[string]string{
		base + "0/" + seqOf1 + ".ts":                `rendition \"0\" of the recording has no segment ` + seqOf1,
		base + "7/vid.m3u8":                         `has no rendition \"7\": it has 0, 1`,
		base + "7/" + seqOf1 + ".ts":                `has no rendition \"7\": it has 0, 1`,
		base + "a.b/vid.m3u8":                       `no rendition \"a.b\"`,
		base + "0/x.ts":                             "no segment",
		base + "0/1/vid.m3u8":                       "no such playback path",
		api.PathRecordingPrefix + "nope/0/vid.m3u8": `recording \"nope\"`,
	} {
		got := n.get(t, path).wantStatus(t, http.StatusNotFound)
		if !strings.Contains(string(got.body), want) {
			t.Errorf("GET %s: %s, want it to say %s", path, got.body, want)
		}
	}
}

// TestRecordingRenditionsCarryTheGrant: a multivariant playlist opened
// with a grant hands it to every variant's playlist, and those to every
// segment; a variant's playlist without one is refused.
func TestRecordingRenditionsCarryTheGrant(t *testing.T) {
	a := newABRRecording(t)
	g := startGuarded(t) // for its access control fakes
	n := startReplaying(t, a.recs, vod.Guard{Access: g.access, Playback: g.play, Ingest: g.edge})
	gr := sign(t, grant.RecordingScope(a.id), issuer, g.now.Add(time.Hour))
	top := api.RecordingPlaylistPath(a.id)
	m := n.get(t, withQuery(top, gr)).wantStatus(t, http.StatusOK)
	variants := uriLines(m.body)
	if len(variants) != 2 {
		t.Fatalf("multivariant playlist:\n%s", m.body)
	}
	segments := 0
	for _, v := range variants {
		if !strings.HasSuffix(v, "/vid.m3u8?"+api.GrantParam+"="+gr) {
			t.Errorf("variant URI %q without the grant", v)
		}
		vpath := follow(t, top, v)
		vp := n.get(t, vpath).wantStatus(t, http.StatusOK)
		for _, s := range uriLines(vp.body) {
			if !strings.HasSuffix(s, ".ts?"+api.GrantParam+"="+gr) {
				t.Errorf("segment URI %q without the grant", s)
			}
			n.get(t, follow(t, vpath, s)).wantStatus(t, http.StatusOK)
			segments++
		}
	}
	if segments != 6 {
		t.Errorf("followed %d segments, want 6", segments)
	}
	forbidden(t, n.get(t, api.PathRecordingPrefix+a.id+"/0/vid.m3u8"), "needs a grant")
	other := sign(t, grant.RecordingScope("rec-other"), issuer, g.now.Add(time.Hour))
	forbidden(t, n.get(t, withQuery(api.PathRecordingPrefix+a.id+"/1/vid.m3u8", other)), "wrong grant scope")
}
