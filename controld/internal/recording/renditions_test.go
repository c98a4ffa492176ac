package recording_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/objstore"
	"github.com/lmx-video/lmx/sqlstore"
)

// abrRig is a real store, object directory and Recordings, with one
// source and one recording of it.
type abrRig struct {
	st     *sqlstore.Store
	recs   *recording.Recordings
	source string
	rec    string
	t0     time.Time
}

func newABRRig(t *testing.T, prober recording.Prober) *abrRig {
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
	recs, err := recording.New(recording.Config{SpoolDir: filepath.Join(t.TempDir(), "spool"), CacheSize: 4 << 20, Prober: prober}, st, dir,
		recording.Series{
			Gauges:   recording.Gauges{Spooled: prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"}), Persist: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h"})},
			Recorded: counter(), CacheHits: counter(), CacheMisses: counter(), CacheRejected: counter(),
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	return &abrRig{st: st, recs: recs, source: src.ID, rec: rec.ID, t0: t0}
}

// record stores the i-th 2-second segment of rendition (from t0), its
// RenditionSeq rseq, with data.
func (g *abrRig) record(t *testing.T, rendition string, i int, rseq uint64, data string) {
	t.Helper()
	seg := recording.Segment{SourceID: g.source, Edge: "gw", Boot: "b1", EdgeSeq: uint64(100 + i), Duration: 2,
		Start: g.t0.Add(time.Duration(i) * 2 * time.Second), Arrived: g.t0, Rendition: rendition, RenditionSeq: rseq}
	if acked, _, err := g.recs.Record(t.Context(), seg, []string{g.rec}, []byte(data)); err != nil || len(acked) != 1 {
		t.Fatalf("Record %s/%d: %v %v", rendition, i, acked, err)
	}
}

func (g *abrRig) stop(t *testing.T) {
	t.Helper()
	if _, err := g.st.StopRecording(t.Context(), g.rec, g.t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

// seqs are the segment seqs a media playlist lists, and which follow a
// discontinuity.
func seqs(t *testing.T, body []byte) (list []uint64, disc []uint64) {
	t.Helper()
	p, err := hls.ParseMediaPlaylist(bytes.NewReader(body), 0)
	if err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	for _, s := range p.Segments {
		n, err := strconv.ParseUint(strings.TrimSuffix(s.URI, ".ts"), 10, 64)
		if err != nil {
			t.Fatalf("segment URI %q is not {seq}.ts", s.URI)
		}
		list = append(list, n)
		if s.Discontinuity {
			disc = append(disc, n)
		}
	}
	return list, disc
}

// countingProber says every segment is 640x360 H.264, and counts calls.
type countingProber struct{ calls atomic.Int32 }

func (p *countingProber) Probe(data []byte) (string, string, error) {
	p.calls.Add(1)
	if strings.HasPrefix(string(data), "hi") {
		return "1280x720", "avc1.64001f", nil
	}
	return "640x360", "avc1.64001e", nil
}

// TestRecordingOfRenditions: the renditions of one source land under
// {source}/{rendition}/ numbered within each; the recording answers with
// a multivariant playlist (rendition order, BANDWIDTH and AVERAGE-BANDWIDTH
// from the bytes, RESOLUTION and CODECS from the prober, probed once);
// each rendition's playlist lists its segments only, with a gap where
// that rendition lost one (and only there); a rendition's path serves its
// segments and refuses another's.
func TestRecordingOfRenditions(t *testing.T) {
	ctx := t.Context()
	prober := &countingProber{}
	g := newABRRig(t, prober)
	// Rendition "10" sorts after "2": names of digits go by number.
	for i := range 3 {
		g.record(t, "2", i, uint64(i+1), strings.Repeat("l", 1000))       // 4000 bit/s
		g.record(t, "10", i, uint64(i+1), "hi"+strings.Repeat("h", 2998)) // 12000 bit/s
	}
	// Rendition 2 loses its 4th segment (rseq 4); 10 has it.
	g.record(t, "10", 3, 4, "hi"+strings.Repeat("h", 2998))
	g.record(t, "2", 4, 5, strings.Repeat("l", 500)+strings.Repeat("L", 1500)) // 8000 bit/s, the peak
	g.record(t, "10", 4, 5, "hi"+strings.Repeat("h", 2998))
	g.stop(t)

	segs, err := g.st.RecordingSegments(ctx, g.rec)
	if err != nil {
		t.Fatal(err)
	}
	if segs[0].ObjectKey != g.source+"/2/gw-b1-1.ts" || segs[1].ObjectKey != g.source+"/10/gw-b1-1.ts" || segs[1].Rendition != "10" {
		t.Errorf("object keys %q, %q: want {source}/{rendition}/{edge}-{boot}-{renditionSeq}.ts", segs[0].ObjectKey, segs[1].ObjectKey)
	}
	// Both renditions' first segments start together: they share the seq
	// space, the second one a millisecond up.
	if segs[1].Seq != segs[0].Seq+1 {
		t.Errorf("seqs %d, %d", segs[0].Seq, segs[1].Seq)
	}

	pl, err := g.recs.Playlist(ctx, g.rec)
	if err != nil {
		t.Fatal(err)
	}
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=8000,AVERAGE-BANDWIDTH=5000,CODECS=\"avc1.64001e\",RESOLUTION=640x360\n2/vid.m3u8\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=12000,AVERAGE-BANDWIDTH=12000,CODECS=\"avc1.64001f\",RESOLUTION=1280x720\n10/vid.m3u8\n"
	if string(pl.Body) != want || !pl.Multivariant || pl.Active {
		t.Errorf("multivariant playlist (multivariant %v, active %v):\n%s\nwant:\n%s", pl.Multivariant, pl.Active, pl.Body, want)
	}
	if _, err := g.recs.Playlist(ctx, g.rec); err != nil || prober.calls.Load() != 2 {
		t.Errorf("probed %d times for two renditions asked twice (%v), want 2", prober.calls.Load(), err)
	}

	low, err := g.recs.RenditionPlaylist(ctx, g.rec, "2")
	if err != nil {
		t.Fatal(err)
	}
	lowSeqs, lowDisc := seqs(t, low.Body)
	if len(lowSeqs) != 4 || lowSeqs[0] != segs[0].Seq || len(lowDisc) != 1 || lowDisc[0] != lowSeqs[3] {
		t.Errorf("rendition 2: segments %v, discontinuities %v: want 4, one before the last (its lost segment):\n%s", lowSeqs, lowDisc, low.Body)
	}
	if !bytes.Contains(low.Body, []byte("#EXT-X-ENDLIST")) {
		t.Errorf("a stopped recording's rendition playlist is not VOD:\n%s", low.Body)
	}
	high, err := g.recs.RenditionPlaylist(ctx, g.rec, "10")
	if err != nil {
		t.Fatal(err)
	}
	highSeqs, highDisc := seqs(t, high.Body)
	if len(highSeqs) != 5 || len(highDisc) != 0 {
		t.Errorf("rendition 10: segments %v, discontinuities %v: want 5 and none", highSeqs, highDisc)
	}

	b, err := g.recs.RenditionSegment(ctx, g.rec, "10", highSeqs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(b); !strings.HasPrefix(string(got), "hi") || len(got) != 3000 {
		t.Errorf("rendition 10's first segment: %d bytes %.4q", len(got), got)
	}
	b.Close()
	if _, err := g.recs.RenditionSegment(ctx, g.rec, "2", highSeqs[0]); !errors.Is(err, recording.ErrNotFound) {
		t.Errorf("rendition 10's segment under rendition 2: %v, want ErrNotFound", err)
	}
	// The recording's own path serves every rendition's segments.
	if b, err := g.recs.Segment(ctx, g.rec, highSeqs[0]); err != nil {
		t.Errorf("the segment under the recording's path: %v", err)
	} else {
		b.Close()
	}
	_, err = g.recs.RenditionPlaylist(ctx, g.rec, "3")
	if !errors.Is(err, recording.ErrNotFound) || !strings.Contains(err.Error(), `no rendition "3": it has 2, 10`) {
		t.Errorf("unknown rendition: %v", err)
	}
}

// TestRecordingWithoutRenditionsUnchanged: a recording of one rendition,
// or of a source without renditions, is one media playlist as before.
func TestRecordingWithoutRenditionsUnchanged(t *testing.T) {
	ctx := t.Context()
	for _, rendition := range []string{"", "0"} {
		t.Run(fmt.Sprintf("rendition %q", rendition), func(t *testing.T) {
			g := newABRRig(t, &countingProber{})
			for i := range 3 {
				g.record(t, rendition, i, uint64(i+1), "data")
			}
			segs, _ := g.st.RecordingSegments(ctx, g.rec)
			if rendition == "" && segs[0].ObjectKey != g.source+"/gw-b1-100.ts" {
				t.Errorf("object key %q of a segment without rendition changed", segs[0].ObjectKey)
			}
			pl, err := g.recs.Playlist(ctx, g.rec)
			if err != nil {
				t.Fatal(err)
			}
			list, disc := seqs(t, pl.Body)
			if pl.Multivariant || len(list) != 3 || len(disc) != 0 {
				t.Errorf("playlist:\n%s", pl.Body)
			}
			_, err = g.recs.RenditionPlaylist(ctx, g.rec, "0")
			switch {
			case rendition == "" && (!errors.Is(err, recording.ErrNotFound) || !strings.Contains(err.Error(), "has no renditions")):
				t.Errorf("rendition path of a recording without renditions: %v", err)
			case rendition == "0" && err != nil:
				t.Errorf("its one rendition's path: %v", err)
			}
		})
	}
}

// TestRecordingRenditionsAfterPlainStretch: segments recorded before the
// source pushed renditions belong to every rendition's playlist; the
// switch is a discontinuity, not a gap.
func TestRecordingRenditionsAfterPlainStretch(t *testing.T) {
	ctx := t.Context()
	g := newABRRig(t, nil)
	g.record(t, "", 0, 0, "plain")
	g.record(t, "0", 1, 1, "low")
	g.record(t, "1", 1, 1, "high")
	pl, err := g.recs.Playlist(ctx, g.rec)
	if err != nil {
		t.Fatal(err)
	}
	// No prober: no RESOLUTION, no CODECS.
	if !pl.Multivariant || bytes.Contains(pl.Body, []byte("RESOLUTION")) || bytes.Contains(pl.Body, []byte("CODECS")) {
		t.Errorf("multivariant playlist without a prober:\n%s", pl.Body)
	}
	for _, r := range []string{"0", "1"} {
		rp, err := g.recs.RenditionPlaylist(ctx, g.rec, r)
		if err != nil {
			t.Fatal(err)
		}
		list, _ := seqs(t, rp.Body)
		if len(list) != 2 || bytes.Count(rp.Body, []byte("#EXT-X-DISCONTINUITY")) != 0 {
			t.Errorf("rendition %s (the plain segment, then its own; media continues):\n%s", r, rp.Body)
		}
		if !bytes.Contains(rp.Body, []byte("#EXT-X-PLAYLIST-TYPE:EVENT")) {
			t.Errorf("an active recording's rendition playlist is not EVENT:\n%s", rp.Body)
		}
	}
}

func TestRecordRefusesBadRendition(t *testing.T) {
	g := newABRRig(t, nil)
	seg := recording.Segment{SourceID: g.source, Edge: "gw", Boot: "b", EdgeSeq: 1, Duration: 2, Start: g.t0, Arrived: g.t0, Rendition: "../x"}
	if _, _, err := g.recs.Record(t.Context(), seg, []string{g.rec}, []byte("x")); !errors.Is(err, recording.ErrBadRendition) {
		t.Errorf("Record with rendition ../x: %v, want ErrBadRendition", err)
	}
	if !broker.ValidRendition("v-1_a") {
		t.Error("a valid name refused")
	}
}
