package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRecordAcrossControlNodeRestart: the control node restarts in the
// middle of a recording. The recording stays active, and nothing is missing:
// the edge keeps what the control node has not acknowledged and sends it when
// the control node is back, so the edge's sequence numbers in the store run
// without a hole across the restart.
func TestRecordAcrossControlNodeRestart(t *testing.T) {
	t.Parallel()
	const src = "rec-restart"
	store := newRecordStore(t, "file")
	cn := store.startControld(t)
	edge := startEdge(t, lmxEdgeBin, "edge-rrestart", cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	source := getSource(t, cn, src)
	waitBuffered(t, edge, src, 3, 20*time.Second)

	rec := recStart(t, cn, src, "-2s")
	time.Sleep(4 * time.Second) // recording, not a synchronisation
	before := getRecording(t, cn, rec.ID)

	cn.proc.Stop()              // SIGINT: exits 0 (Stop asserts it)
	time.Sleep(5 * time.Second) // the control node is away; the edge buffers
	if edge.proc.Exited() {
		t.Fatalf("the edge exited while the control node was down")
	}
	if st, err := edgeSource(edge, src); err != nil || st.PendingRecord < 3 {
		t.Errorf("edge during the outage: %+v, %v; want several segments held for the recording", st, err)
	}
	cn.start()
	if r := getRecording(t, cn, rec.ID); r.Active != 1 {
		t.Fatalf("after the restart the recording is not active: %+v", r)
	}
	eventually(t, 20*time.Second, 250*time.Millisecond, "the held segments to arrive", func() (bool, string) {
		st, err := edgeSource(edge, src)
		if err != nil {
			return false, err.Error()
		}
		return st.PendingRecord <= 1, "pending " + itoa(st.PendingRecord)
	})
	time.Sleep(2 * time.Second)
	stopped := recStop(t, cn, rec.ID)
	final := waitRecordingComplete(t, cn, edge, src, stopped)
	if final.Segments <= before.Segments+5 {
		t.Errorf("recording grew from %d to %d segments across a 5 s outage and 2 s after", before.Segments, final.Segments)
	}
	checkRecordingCovers(t, final, stopped, stopped.EndTS.Sub(stopped.StartTS).Seconds())
	objs := waitObjects(t, store, cn, source.ID, final.Segments, 45*time.Second)
	checkObjects(t, objs, source.ID, edge.name, final) // no edge sequence missing
	checkVOD(t, cn.vodURL+"/v1/vod/recording/"+rec.ID+"/vid.m3u8", final, stopped.EndTS.Sub(stopped.StartTS).Seconds())
	expectNoErrorsLogged(t, edge.proc)
}

// TestRecordSourceOffline: the camera's ffmpeg stops for a while in the
// middle of a recording and starts again. The recording stays active, its
// playlist marks the break with a discontinuity, rec show tells the gap, and
// what was recorded still decodes.
func TestRecordSourceOffline(t *testing.T) {
	t.Parallel()
	const src = "rec-offline"
	store := newRecordStore(t, "file")
	cn := store.startControld(t)
	edge := startEdge(t, lmxBin, "edge-offline", cn, t.TempDir())
	ff := startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	waitBuffered(t, edge, src, 2, 20*time.Second)

	rec := recStart(t, cn, src, "-1s")
	time.Sleep(4 * time.Second)
	ff.Stop()
	offAt := time.Now()
	time.Sleep(5 * time.Second) // the source is offline
	if r := getRecording(t, cn, rec.ID); r.Active != 1 {
		t.Fatalf("the recording stopped when its source went offline: %+v", r)
	}
	startFFmpeg(t, edge, src, edge.allowDir)
	onAt := time.Now()
	eventually(t, 20*time.Second, 250*time.Millisecond, "segments after the source came back", func() (bool, string) {
		r := getRecording(t, cn, rec.ID)
		return r.LastSegmentEnd.After(onAt.Add(2 * time.Second)), r.LastSegmentEnd.String()
	})
	stopped := recStop(t, cn, rec.ID)
	final := waitRecordingComplete(t, cn, edge, src, stopped)

	if len(final.Gaps) != 1 {
		t.Fatalf("gaps %+v, want exactly one (the source was offline from %s to %s)", final.Gaps, offAt.Format(time.RFC3339Nano), onAt.Format(time.RFC3339Nano))
	}
	g := final.Gaps[0]
	if g.Seconds < 3 || g.Seconds > 9 || g.From.After(offAt.Add(time.Second)) || g.To.Before(onAt.Add(-time.Second)) {
		t.Errorf("gap %+v does not match the outage %s … %s", g, offAt.Format(time.RFC3339Nano), onAt.Format(time.RFC3339Nano))
	}
	show := mustLMX(t, cn, "rec", "show", rec.ID)
	if !containsAll(show, "Gaps:", g.From.Local().Format("15:04:05")) {
		t.Errorf("rec show does not tell the gap:\n%s", show)
	}
	vod := cn.vodURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8"
	pl, _, err := fetchPlaylist(vod)
	if err != nil {
		t.Fatal(err)
	}
	discs := 0
	for _, s := range pl.Segments {
		if s.Discontinuity {
			discs++
		}
	}
	if discs != 1 || pl.PlaylistType != "VOD" || !pl.EndList {
		t.Errorf("VOD playlist: type %q, endlist %v, %d discontinuities; want VOD, ENDLIST, 1", pl.PlaylistType, pl.EndList, discs)
	}
	p, err := probeDecode(vod)
	if err != nil {
		t.Fatalf("ffprobe of the recording with a break: %v", err)
	}
	p.expectVideo(t, "recording with a break")
	expectNoErrorsLogged(t, edge.proc)
}

func itoa(n int) string { return strconv.Itoa(n) }

// containsAll reports whether s holds every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
