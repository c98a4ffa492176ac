package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Recording end to end: ffmpeg → edge (ring buffer) → control node (spool)
// → object store (a directory or a real MinIO) → VOD playlist, export, rm.
//
// Every test here uses 1 s segments (startFFmpeg), so seconds and segments
// are interchangeable in the tolerances below.

const (
	recSegment = 1.0 // seconds per segment ffmpeg writes (startFFmpeg)
	recBucket  = "lmx-e2e"
	recPrefix  = "rec"
)

// TestRecord records 10 s of a source, 6 s of them from the edge's buffer
// (--since -6s), with the source's streaming off, and checks the recording
// from every side: API, VOD playlist decoded by ffprobe, the objects in the
// store, `rec export` to .ts and .mp4, and `rec rm`. The same body runs
// against the default file:// store and against a real MinIO.
func TestRecord(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"file", "s3"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			recordSuite(t, newRecordStore(t, kind))
		})
	}
}

// TestRecordStoreOutage stops MinIO for 15 s in the middle of a recording
// (of a source that also streams live, so segments cross as live,record)
// and starts it again: the control node keeps acknowledging segments from
// its spool, plays them from there meanwhile, and moves them to the bucket
// once MinIO is back, so every segment the edge produced in the recorded
// window ends up in the bucket, with consecutive edge sequence numbers.
func TestRecordStoreOutage(t *testing.T) {
	t.Parallel()
	const (
		src    = "rec-outage"
		outage = 15 * time.Second
	)
	store := newRecordStore(t, "s3")
	cn := store.startControld(t)
	edge := startEdge(t, lmxBin, "edge-outage", cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	source := getSource(t, cn, src)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	waitBuffered(t, edge, src, 3, 20*time.Second)

	rec := recStart(t, cn, src, "-2s")
	vod := cn.vodURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8"
	time.Sleep(4 * time.Second)

	// MinIO goes away. Nothing upstream may notice: the control node acks
	// from its spool and the edge keeps uploading.
	before := getRecording(t, cn, rec.ID)
	t.Logf("stopping MinIO with %d segments recorded", before.Segments)
	store.minio.stop()
	down := time.Now()
	var spooled float64
	playedDuringOutage := false
	for time.Since(down) < outage {
		time.Sleep(time.Second)
		spooled = metricValues(t, cn, "lmx_recording_spooled_segments")[""]
		// Replay reads cache → spool → store: the newest segment plays
		// although the store is down.
		if !playedDuringOutage && time.Since(down) > outage/2 {
			pl, _, err := fetchPlaylist(vod)
			if err != nil {
				t.Errorf("recording playlist during the store outage: %v", err)
				continue
			}
			if pl.PlaylistType != "EVENT" || len(pl.Segments) == 0 {
				t.Errorf("recording playlist during the outage: type %q with %d segments, want EVENT with segments", pl.PlaylistType, len(pl.Segments))
				continue
			}
			su := resolve(vod, pl.Segments[len(pl.Segments)-1].URI)
			r, err := get(su)
			if err != nil {
				t.Errorf("newest recorded segment during the outage: %v", err)
			} else if err := checkSegment(r); err != nil {
				t.Errorf("newest recorded segment %s during the outage: %v", su, err)
			}
			playedDuringOutage = true
		}
	}
	during := getRecording(t, cn, rec.ID)
	t.Logf("after %s without MinIO: %d segments recorded (+%d), %v waiting in the spool",
		time.Since(down).Round(time.Millisecond), during.Segments, during.Segments-before.Segments, spooled)
	// 15 s of 1 s segments; allow a few for scheduling on a busy machine.
	if grew := during.Segments - before.Segments; grew < 12 {
		t.Errorf("the recording grew by %d segments during a %s store outage, want about 15: ingest must not wait on the store", grew, outage)
	}
	if spooled < 10 {
		t.Errorf("lmx_recording_spooled_segments = %v at the end of the outage, want >= 10 (segments wait in the spool)", spooled)
	}
	if objs, err := store.minio.listObjects(t, recBucket, ""); err == nil {
		t.Errorf("listing the bucket while MinIO is stopped worked (%d objects): MinIO is not really down", len(objs))
	}

	store.minio.start()
	t.Logf("MinIO back after %s", time.Since(down).Round(time.Millisecond))
	time.Sleep(4 * time.Second)
	stopped := recStop(t, cn, rec.ID)

	// Segments still in flight at the stop arrive, then the spool drains
	// into the bucket (the control node's store backoff tops out at 10 s).
	final := waitRecordingComplete(t, cn, edge, src, stopped)
	window := stopped.EndTS.Sub(stopped.StartTS).Seconds()
	checkRecordingCovers(t, final, stopped, window)
	objs := waitObjects(t, store, cn, source.ID, final.Segments, 45*time.Second)
	keys := checkObjects(t, objs, source.ID, edge.name, final)
	if v := metricValues(t, cn, "lmx_recording_spooled_segments")[""]; v != 0 {
		t.Errorf("lmx_recording_spooled_segments = %v once the bucket holds everything, want 0", v)
	}
	checkVOD(t, vod, final, window)
	// What the bucket holds is what was recorded, byte for byte: the export
	// goes through the playback path (cache, spool, store), the comparison
	// straight to MinIO.
	file := filepath.Join(t.TempDir(), "outage.ts")
	mustLMX(t, cn, "rec", "export", rec.ID, "-o", file)
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, store.concatObjects(t, cn, keys)) {
		t.Errorf("exported .ts (%d bytes, %v) is not the bucket's objects end to end in edge order", len(b), err)
	}

	out := cn.proc.Output()
	for _, want := range []string{"recording store not taking segments", "recording store reachable again"} {
		if !strings.Contains(out, want) {
			t.Errorf("controld did not log %q around the store outage", want)
		}
	}
	if st, err := edgeSource(edge, src); err != nil {
		t.Errorf("edge status: %v", err)
	} else if st.Dropped != 0 {
		t.Errorf("edge dropped %d segments of %s: a store outage must cost the edge nothing", st.Dropped, src)
	}
	expectNoErrorsLogged(t, edge.proc)
}

// recordSuite is TestRecord's body for one store.
func recordSuite(t *testing.T, store *recordStore) {
	const src = "rec-cam"
	cn := store.startControld(t)
	edge := startEdge(t, lmxBin, "edge-rec-"+store.kind, cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	source := getSource(t, cn, src)

	// Nobody watches: streaming stays off, and the edge still uploads what
	// the recording needs.
	if source.Streaming == 1 {
		t.Fatalf("source %s streams right after its first push (%+v); this test needs it off", src, source)
	}
	expectError(t, "live playlist of a source that does not stream", mustDo(t, http.MethodGet, cn.liveURL(src), nil, nil),
		http.StatusNotFound, true, "not streaming")

	// --since -6s needs 6 s in the edge's buffer, plus a segment reaching
	// back over since (which the CLI rounds down to a whole second).
	waitBuffered(t, edge, src, 8, 30*time.Second)

	t0 := time.Now()
	rec := recStart(t, cn, src, "-6s")
	t1 := time.Now()
	// The CLI sends since as whole epoch seconds, rounded down: since is in
	// (t0-7s, t1-6s].
	if lo, hi := t0.Add(-7*time.Second), t1.Add(-6*time.Second); rec.StartTS.Before(lo) || rec.StartTS.After(hi) {
		t.Errorf("rec start --since -6s: start_ts %s, want between %s and %s", rec.StartTS.Format(time.RFC3339Nano), lo.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano))
	}
	if rec.Active != 1 || rec.Source != source.ID || rec.SourceName != src {
		t.Errorf("rec start --json: %+v, want active 1 for source %s (%s)", rec, source.ID, src)
	}
	vod := cn.vodURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8"
	if !strings.HasPrefix(rec.PlaybackURL, vod+"?grant=") {
		t.Errorf("rec start --json: playback_url %q, want %q?grant=… (signed for the caller)", rec.PlaybackURL, vod)
	}

	// While it records, the playlist is an EVENT that already holds the
	// buffered past.
	eventually(t, 10*time.Second, 250*time.Millisecond, "the active recording's playlist holds the buffered 6 s", func() (bool, string) {
		pl, _, err := fetchPlaylist(vod)
		if err != nil {
			return false, err.Error()
		}
		if pl.PlaylistType != "EVENT" || pl.EndList {
			t.Fatalf("active recording's playlist: type %q, endlist %v; want EVENT without EXT-X-ENDLIST", pl.PlaylistType, pl.EndList)
		}
		if len(pl.Segments) < 6 {
			return false, fmt.Sprintf("%d segments", len(pl.Segments))
		}
		r := mustDo(t, http.MethodGet, resolve(vod, pl.Segments[0].URI), nil, nil)
		if err := checkSegment(r); err != nil {
			t.Errorf("first recorded segment: %v", err)
		}
		return true, ""
	})
	var active []recordingJSON
	if err := json.Unmarshal([]byte(mustLMX(t, cn, "rec", "ls", "--active", "--json")), &active); err != nil {
		t.Errorf("rec ls --active --json: %v", err)
	} else if !slices.ContainsFunc(active, func(r recordingJSON) bool { return r.ID == rec.ID }) {
		t.Errorf("rec ls --active --json does not list the recording %s: %+v", rec.ID, active)
	}

	// Stop when the window [since, stop) is 10 s long.
	time.Sleep(time.Until(rec.StartTS.Add(10 * time.Second)))
	stopped := recStop(t, cn, rec.ID)
	window := stopped.EndTS.Sub(stopped.StartTS).Seconds()
	t.Logf("recorded window %.3f s", window)

	final := waitRecordingComplete(t, cn, edge, src, stopped)
	checkRecordingCovers(t, final, stopped, window)
	probe := checkVOD(t, vod, final, window)
	// The CLI shows what the API says.
	var shown recordingJSON
	if err := json.Unmarshal([]byte(mustLMX(t, cn, "rec", "show", rec.ID, "--json")), &shown); err != nil {
		t.Errorf("rec show --json: %v", err)
	} else if shown.Segments != final.Segments || shown.Bytes != final.Bytes || shown.Active != -1 || len(shown.Gaps) != 0 {
		t.Errorf("rec show --json: %d segments, %d bytes, active %d, gaps %v; the API: %d segments, %d bytes, active -1, no gaps",
			shown.Segments, shown.Bytes, shown.Active, shown.Gaps, final.Segments, final.Bytes)
	}
	if out := mustLMX(t, cn, "rec", "show", rec.ID); !regexp.MustCompile(`(?m)^Gaps:\s+none$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Segments:\s+`+strconv.Itoa(final.Segments)+`$`).MatchString(out) {
		t.Errorf("rec show does not say \"Gaps: none\" and \"Segments: %d\":\n%s", final.Segments, out)
	}
	// Recording did not turn streaming on behind the operator's back.
	if st, err := edgeSource(edge, src); err != nil || st.Streaming {
		t.Errorf("edge status of %s after recording: %+v (%v), want not streaming", src, st, err)
	}
	expectError(t, "live playlist after recording a source that does not stream", mustDo(t, http.MethodGet, cn.liveURL(src), nil, nil),
		http.StatusNotFound, true, "not streaming")

	objs := waitObjects(t, store, cn, source.ID, final.Segments, 20*time.Second)
	keys := checkObjects(t, objs, source.ID, edge.name, final)
	stored := store.concatObjects(t, cn, keys)

	// Export: one .ts as recorded (the stored objects end to end), and an .mp4
	// remuxed by ffmpeg; both decode to the same media as the playlist.
	dir := t.TempDir()
	for _, ext := range []string{"ts", "mp4"} {
		file := filepath.Join(dir, "clip."+ext)
		out := mustLMX(t, cn, "rec", "export", rec.ID, "-o", file)
		if !strings.Contains(out, "wrote "+file) {
			t.Errorf("rec export -o %s printed %q, want it to name the file", file, out)
		}
		fi, err := os.Stat(file)
		if err != nil {
			t.Errorf("rec export -o %s: %v", file, err)
			continue
		}
		if ext == "ts" {
			if fi.Size() != final.Bytes {
				t.Errorf("exported .ts is %d bytes, want the recording's %d", fi.Size(), final.Bytes)
			}
			if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, stored) {
				t.Errorf("exported .ts (%d bytes, %v) is not the stored objects end to end in edge order (%d bytes)", len(b), err, len(stored))
			}
		}
		p, err := probeDecode(file)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		t.Logf("ffprobe %s: %+v", filepath.Base(file), p)
		p.expectVideo(t, file)
		if math.Abs(p.Duration-probe.Duration) > 0.5 {
			t.Errorf("%s lasts %.3f s, the recording's playlist %.3f s", filepath.Base(file), p.Duration, probe.Duration)
		}
		if d := p.Frames - probe.Frames; d < -2 || d > 2 {
			t.Errorf("%s decodes to %d frames, the recording's playlist to %d", filepath.Base(file), p.Frames, probe.Frames)
		}
	}

	// rm deletes the recording and its objects (no other recording shares them).
	if out := mustLMX(t, cn, "rec", "rm", rec.ID); !strings.Contains(out, "removed recording "+rec.ID) {
		t.Errorf("rec rm printed %q", out)
	}
	left, err := store.objects(t, cn, source.ID)
	switch {
	case err != nil:
		t.Errorf("listing the store after rec rm: %v", err)
	case len(left) > 0:
		t.Errorf("rec rm left %d objects in the %s store: %v", len(left), store.kind, slices.Sorted(maps.Keys(left)))
	}
	expectError(t, "GET a removed recording", mustDo(t, http.MethodGet, cn.apiURL+"/v1/recording/"+rec.ID, nil, nil), http.StatusNotFound, true)
	expectError(t, "playlist of a removed recording", mustDo(t, http.MethodGet, vod, nil, nil), http.StatusNotFound, true)

	expectNoErrorsLogged(t, cn.proc)
	expectNoErrorsLogged(t, edge.proc)
}

// ---------------------------------------------------------------------------
// Stores

// recordStore is where a test's control node keeps recordings, and the
// test's own way of looking at what is stored there.
type recordStore struct {
	kind  string       // "file" or "s3"
	minio *minioServer // the server behind "s3"
}

func newRecordStore(t *testing.T, kind string) *recordStore {
	t.Helper()
	s := &recordStore{kind: kind}
	if kind == "s3" {
		s.minio = startMinIO(t)
	}
	return s
}

// startControld starts a control node recording into the store: the
// default (file://DATA-DIR/recordings, no flag) or the MinIO bucket.
func (s *recordStore) startControld(t *testing.T) *controlNode {
	t.Helper()
	if s.minio == nil {
		return startControld(t)
	}
	u := fmt.Sprintf("s3://%s/%s?endpoint=%s&secure=false", recBucket, recPrefix, s.minio.endpoint())
	return startControldEnv(t, s.minio.env(), "--recordings", u)
}

// objects lists the stored objects of a source, keyed as the control node
// names them ({source-id}/{edge}-{boot}-{edge-seq}.ts, without the
// store's prefix), with their sizes.
func (s *recordStore) objects(t *testing.T, cn *controlNode, sourceID string) (map[string]int64, error) {
	t.Helper()
	if s.minio != nil {
		objs, err := s.minio.listObjects(t, recBucket, recPrefix+"/"+sourceID+"/")
		if err != nil {
			return nil, err
		}
		out := map[string]int64{}
		for k, n := range objs {
			out[strings.TrimPrefix(k, recPrefix+"/")] = n
		}
		return out, nil
	}
	root := filepath.Join(cn.dataDir, "recordings")
	out := map[string]int64{}
	err := filepath.WalkDir(filepath.Join(root, sourceID), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") { // .put-* are writes in progress
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = fi.Size()
		return nil
	})
	return out, err
}

// concatObjects reads the objects keys (as objects names them) and joins
// them: what a .ts export of the recording must hold, byte for byte.
func (s *recordStore) concatObjects(t *testing.T, cn *controlNode, keys []string) []byte {
	t.Helper()
	var all []byte
	for _, k := range keys {
		var b []byte
		var err error
		if s.minio != nil {
			b, err = s.minio.getObject(t, recBucket, recPrefix+"/"+k)
		} else {
			b, err = os.ReadFile(filepath.Join(cn.dataDir, "recordings", filepath.FromSlash(k)))
		}
		if err != nil {
			t.Fatalf("reading object %s from the %s store: %v", k, s.kind, err)
		}
		all = append(all, b...)
	}
	return all
}

// waitObjects waits until the store holds n objects of the source (they
// are copied from the spool in the background) and returns them.
func waitObjects(t *testing.T, s *recordStore, cn *controlNode, sourceID string, n int, timeout time.Duration) map[string]int64 {
	t.Helper()
	var objs map[string]int64
	eventually(t, timeout, 250*time.Millisecond, fmt.Sprintf("%d objects of the recording in the %s store", n, s.kind), func() (bool, string) {
		var err error
		if objs, err = s.objects(t, cn, sourceID); err != nil {
			return false, err.Error()
		}
		return len(objs) >= n, fmt.Sprintf("%d objects", len(objs))
	})
	return objs
}

// checkObjects checks the stored objects of a recording that is the only
// one of its source: one per segment, their sizes adding up to its bytes,
// all from one edge run, and consecutive edge sequence numbers — every
// segment the edge produced in the window, none missing. It returns the
// keys in edge sequence order.
func checkObjects(t *testing.T, objs map[string]int64, sourceID, edgeName string, rec recordingJSON) []string {
	t.Helper()
	if len(objs) != rec.Segments {
		t.Errorf("the store holds %d objects of the source, the recording %d segments", len(objs), rec.Segments)
	}
	var total int64
	var seqs []uint64
	bySeq := map[uint64]string{}
	boots := map[string]bool{}
	for key, size := range objs {
		total += size
		boot, seq, err := parseObjectKey(key, sourceID, edgeName)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		boots[boot] = true
		seqs = append(seqs, seq)
		bySeq[seq] = key
	}
	if total != rec.Bytes {
		t.Errorf("the objects hold %d bytes, the recording %d", total, rec.Bytes)
	}
	if len(boots) != 1 {
		t.Errorf("objects from %d edge runs (%v), want 1: the edge never restarted", len(boots), boots)
	}
	slices.Sort(seqs)
	if len(seqs) == 0 {
		t.Errorf("no objects")
		return nil
	}
	var missing []uint64
	for i := 1; i < len(seqs); i++ {
		for s := seqs[i-1] + 1; s < seqs[i]; s++ {
			missing = append(missing, s)
		}
		if seqs[i] == seqs[i-1] {
			t.Errorf("edge sequence %d stored twice", seqs[i])
		}
	}
	t.Logf("objects: edge sequence %d … %d, %d objects, %d bytes", seqs[0], seqs[len(seqs)-1], len(seqs), total)
	if len(missing) > 0 {
		t.Errorf("the recording misses edge segments %v between %d and %d", missing, seqs[0], seqs[len(seqs)-1])
	}
	keys := make([]string, len(seqs))
	for i, s := range seqs {
		keys[i] = bySeq[s]
	}
	return keys
}

// parseObjectKey reads {source-id}/{edge}-{boot}-{edge-seq}.ts.
func parseObjectKey(key, sourceID, edgeName string) (boot string, seq uint64, err error) {
	rest, ok := strings.CutPrefix(key, sourceID+"/"+edgeName+"-")
	if ok {
		rest, ok = strings.CutSuffix(rest, ".ts")
	}
	i := strings.LastIndexByte(rest, '-')
	if !ok || i <= 0 {
		return "", 0, fmt.Errorf("object key %q is not %s/%s-BOOT-SEQ.ts", key, sourceID, edgeName)
	}
	seq, err = strconv.ParseUint(rest[i+1:], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("object key %q: edge sequence %q: %v", key, rest[i+1:], err)
	}
	return rest[:i], seq, nil
}

// ---------------------------------------------------------------------------
// Recordings

// recordingJSON is a recording as the API and `lmx rec … --json` give it.
type recordingJSON struct {
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	SourceName      string    `json:"source_name"`
	StartTS         time.Time `json:"start_ts"`
	EndTS           time.Time `json:"end_ts"`
	Active          int       `json:"active"`
	Segments        int       `json:"segments"`
	DurationSeconds float64   `json:"duration_seconds"`
	Bytes           int64     `json:"bytes"`
	PlaybackURL     string    `json:"playback_url"`
	FirstSegmentAt  time.Time `json:"first_segment_at"`
	LastSegmentEnd  time.Time `json:"last_segment_end"`
	Gaps            []struct {
		From    time.Time `json:"from"`
		To      time.Time `json:"to"`
		Seconds float64   `json:"seconds"`
	} `json:"gaps"`
}

// recStart is `lmx rec start SRC --since SINCE --json`.
func recStart(t *testing.T, cn *controlNode, src, since string) recordingJSON {
	t.Helper()
	var rec recordingJSON
	out := mustLMX(t, cn, "rec", "start", src, "--since", since, "--json")
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.ID == "" {
		t.Fatalf("rec start --json: want a recording, got %q (%v)", out, err)
	}
	return rec
}

// recStop is `lmx rec stop ID --json`.
func recStop(t *testing.T, cn *controlNode, id string) recordingJSON {
	t.Helper()
	var rec recordingJSON
	out := mustLMX(t, cn, "rec", "stop", id, "--json")
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.ID != id {
		t.Fatalf("rec stop --json: want recording %s, got %q (%v)", id, out, err)
	}
	if rec.Active != -1 || rec.EndTS.IsZero() || !rec.EndTS.After(rec.StartTS) {
		t.Errorf("rec stop --json: active %d, start %s, end %s; want -1 and an end after the start", rec.Active, rec.StartTS, rec.EndTS)
	}
	return rec
}

// getRecording is GET /v1/recording/{id} (with its gaps).
func getRecording(t *testing.T, cn *controlNode, id string) recordingJSON {
	t.Helper()
	r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/recording/"+url.PathEscape(id), nil, nil)
	var out struct {
		Recording recordingJSON `json:"recording"`
	}
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/recording/%s: %s", id, r)
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("GET /v1/recording/%s: %v: %s", id, err, r)
	}
	return out.Recording
}

// waitRecordingComplete waits, after a stop, until the edge has taken a
// segment that starts after the stop (so the one in progress at the stop,
// the recording's last, has reached the edge too) and has nothing left to
// send for the recording; it returns the recording as the API then shows
// it.
//
// The edge stamps a segment's start as its arrival minus its duration, so
// a segment arriving more than one segment after the stop started after it.
func waitRecordingComplete(t *testing.T, cn *controlNode, edge *edgeNode, src string, stopped recordingJSON) recordingJSON {
	t.Helper()
	after := stopped.EndTS.Add(time.Duration(recSegment*float64(time.Second)) + 100*time.Millisecond)
	eventually(t, 20*time.Second, 250*time.Millisecond, "recording "+stopped.ID+" complete after its stop", func() (bool, string) {
		st, err := edgeSource(edge, src)
		if err != nil {
			return false, err.Error()
		}
		done := st.LastSegmentAt.After(after) && st.PendingRecord == 0
		return done, fmt.Sprintf("newest segment reached the edge at %s (want after %s), %d segments pending for recordings",
			st.LastSegmentAt.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano), st.PendingRecord)
	})
	rec := getRecording(t, cn, stopped.ID)
	// And it is done: nothing more arrives.
	time.Sleep(1500 * time.Millisecond)
	if again := getRecording(t, cn, stopped.ID); again.Segments != rec.Segments {
		t.Errorf("recording %s went from %d to %d segments more than a second after it was complete", stopped.ID, rec.Segments, again.Segments)
		rec = again
	}
	t.Logf("recording %s: %d segments, %.3f s, %d bytes, media %s … %s, gaps %v", rec.ID, rec.Segments, rec.DurationSeconds, rec.Bytes,
		rec.FirstSegmentAt.Format(time.RFC3339Nano), rec.LastSegmentEnd.Format(time.RFC3339Nano), rec.Gaps)
	return rec
}

// checkRecordingCovers checks that a stopped recording holds its whole
// window [start_ts, end_ts) of window seconds and little more.
//
// A segment belongs to a recording when any of it falls inside the window,
// and a recording holds whole segments; so its media runs from up to one
// segment before start_ts to up to one segment after end_ts. Its duration D
// is thus in [window, window + 2 segments): within one segment of
// window + 1 segment, the window rounded out to segment boundaries. The
// edge stamps segments by their arrival (a few tens of ms late, more under
// load), which can move either end by a little: 0.5 s of slack below,
// 0.25 s above.
func checkRecordingCovers(t *testing.T, rec, stopped recordingJSON, window float64) {
	t.Helper()
	if rec.Active != -1 {
		t.Errorf("stopped recording: active %d, want -1", rec.Active)
	}
	if len(rec.Gaps) > 0 {
		t.Errorf("recording has gaps %+v, want none: ffmpeg never stopped", rec.Gaps)
	}
	if lo, hi := window-0.5, window+2*recSegment+0.25; rec.DurationSeconds < lo || rec.DurationSeconds > hi {
		t.Errorf("recording holds %.3f s of media for a %.3f s window, want %.3f … %.3f (within one segment of %.3f)",
			rec.DurationSeconds, window, lo, hi, window+recSegment)
	}
	if lo, hi := window-1, window+2; float64(rec.Segments) < lo || float64(rec.Segments) > hi {
		t.Errorf("recording holds %d segments of 1 s for a %.3f s window", rec.Segments, window)
	}
	// The first segment reaches back over since, the last over the stop.
	seg := time.Duration(recSegment * float64(time.Second))
	if f := rec.FirstSegmentAt; f.After(stopped.StartTS.Add(500*time.Millisecond)) || !f.After(stopped.StartTS.Add(-seg-500*time.Millisecond)) {
		t.Errorf("first segment starts at %s, want within a segment before start_ts %s",
			f.Format(time.RFC3339Nano), stopped.StartTS.Format(time.RFC3339Nano))
	}
	if l := rec.LastSegmentEnd; l.Before(stopped.EndTS.Add(-500*time.Millisecond)) || l.After(stopped.EndTS.Add(seg+500*time.Millisecond)) {
		t.Errorf("last segment ends at %s, want within a segment after end_ts %s",
			l.Format(time.RFC3339Nano), stopped.EndTS.Format(time.RFC3339Nano))
	}
}

// checkVOD checks the playlist of a stopped recording and has ffprobe
// decode all of it; it returns what ffprobe saw.
func checkVOD(t *testing.T, vod string, rec recordingJSON, window float64) probeResult {
	t.Helper()
	pl, r, err := fetchPlaylist(vod)
	if err != nil {
		t.Fatalf("stopped recording's playlist: %v", err)
	}
	if pl.PlaylistType != "VOD" || !pl.EndList {
		t.Errorf("stopped recording's playlist: type %q, endlist %v; want VOD with EXT-X-ENDLIST\n%s", pl.PlaylistType, pl.EndList, r.Body)
	}
	var sum float64
	for i, s := range pl.Segments {
		sum += s.Duration
		if s.Discontinuity {
			t.Errorf("segment %d (%s) is marked EXT-X-DISCONTINUITY in an unbroken recording", i, s.URI)
		}
		if s.ProgramDateTime.IsZero() {
			t.Errorf("segment %d (%s) has no EXT-X-PROGRAM-DATE-TIME", i, s.URI)
		}
	}
	if len(pl.Segments) != rec.Segments || math.Abs(sum-rec.DurationSeconds) > 0.01 {
		t.Errorf("playlist lists %d segments, %.3f s; the API says %d, %.3f s", len(pl.Segments), sum, rec.Segments, rec.DurationSeconds)
	}
	// EXT-X-PROGRAM-DATE-TIME is written to the millisecond.
	if len(pl.Segments) > 0 && pl.Segments[0].ProgramDateTime.Sub(rec.FirstSegmentAt).Abs() >= time.Millisecond {
		t.Errorf("playlist starts at %s, the API's first_segment_at is %s", pl.Segments[0].ProgramDateTime, rec.FirstSegmentAt)
	}

	p, err := probeDecode(vod)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Logf("ffprobe %s: %+v", vod, p)
	p.expectVideo(t, vod)
	// See checkRecordingCovers for the bounds: within one segment of the
	// window rounded out to segment boundaries.
	if lo, hi := window-0.5, window+2*recSegment+0.25; p.Duration < lo || p.Duration > hi {
		t.Errorf("ffprobe: the recording lasts %.3f s for a %.3f s window, want %.3f … %.3f (within one segment of %.3f)",
			p.Duration, window, lo, hi, window+recSegment)
	}
	if math.Abs(p.Duration-rec.DurationSeconds) > 0.5 {
		t.Errorf("ffprobe: %.3f s, the API says %.3f s", p.Duration, rec.DurationSeconds)
	}
	// 25 fps: every frame of every segment decodes.
	if want := int(math.Round(rec.DurationSeconds * 25)); p.Frames < want-2 || p.Frames > want+2 {
		t.Errorf("ffprobe decoded %d frames, want %d (25 fps × %.3f s)", p.Frames, want, rec.DurationSeconds)
	}
	return p
}

// ---------------------------------------------------------------------------
// Edge and source state

// edgeSourceStatus is one source in the edge's GET /v1/status.
type edgeSourceStatus struct {
	Name            string    `json:"name"`
	Streaming       bool      `json:"streaming"`
	LastSegmentAt   time.Time `json:"last_segment_at"`
	BufferedSeconds float64   `json:"buffered_seconds"`
	Uploaded        uint64    `json:"uploaded"`
	Dropped         uint64    `json:"dropped"`
	PendingRecord   int       `json:"pending_record"`
}

// edgeSource asks the edge itself about one of its sources.
func edgeSource(e *edgeNode, name string) (edgeSourceStatus, error) {
	r, err := get(e.url + "/v1/status")
	if err != nil {
		return edgeSourceStatus{}, err
	}
	var out struct {
		Status struct {
			Sources []edgeSourceStatus `json:"sources"`
		} `json:"status"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		return edgeSourceStatus{}, fmt.Errorf("edge status: %v: %s", err, r)
	}
	for _, s := range out.Status.Sources {
		if s.Name == name {
			return s, nil
		}
	}
	return edgeSourceStatus{}, fmt.Errorf("edge %s does not list source %s: %s", e.name, name, r)
}

// waitBuffered waits until the edge buffers at least secs seconds of src.
func waitBuffered(t *testing.T, e *edgeNode, src string, secs float64, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, 250*time.Millisecond, fmt.Sprintf("edge buffers %.0f s of %s", secs, src), func() (bool, string) {
		s, err := edgeSource(e, src)
		if err != nil {
			return false, err.Error()
		}
		return s.BufferedSeconds >= secs, fmt.Sprintf("%.1f s buffered", s.BufferedSeconds)
	})
}

// getSource is GET /v1/source/{name}.
func getSource(t *testing.T, cn *controlNode, name string) sourceJSON {
	t.Helper()
	r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/source/"+url.PathEscape(name), nil, nil)
	var out struct {
		Source sourceJSON `json:"source"`
	}
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/source/%s: %s", name, r)
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || out.Source.ID == "" {
		t.Fatalf("GET /v1/source/%s: want a source, got %s (%v)", name, r, err)
	}
	return out.Source
}

// ---------------------------------------------------------------------------
// Decoding

// probeResult is what ffprobe makes of a file or playlist after decoding
// every frame.
type probeResult struct {
	Duration float64
	Frames   int
	Streams  []probeStream
}

// probeDecode has ffprobe decode every video frame of u (-count_frames)
// and report the container's duration; any error ffprobe prints fails it.
func probeDecode(u string) (probeResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"-v", "error"}, playerAuth(u)...)
	cmd := exec.CommandContext(ctx, ffprobeBin, append(args, "-count_frames", "-select_streams", "v",
		"-show_entries", "format=duration:stream=codec_name,width,height,nb_read_frames", "-of", "json", u)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return probeResult{}, fmt.Errorf("ffprobe %s: %v: %s", u, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		return probeResult{}, fmt.Errorf("ffprobe %s reported errors while decoding: %s", u, s)
	}
	var res struct {
		Streams []struct {
			probeStream
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return probeResult{}, fmt.Errorf("ffprobe output: %v: %s", err, out)
	}
	var p probeResult
	if p.Duration, err = strconv.ParseFloat(res.Format.Duration, 64); err != nil {
		return p, fmt.Errorf("ffprobe %s: format duration %q: %v", u, res.Format.Duration, err)
	}
	for _, s := range res.Streams {
		p.Streams = append(p.Streams, s.probeStream)
		n, err := strconv.Atoi(s.NbReadFrames)
		if err != nil {
			return p, fmt.Errorf("ffprobe %s: nb_read_frames %q: %v", u, s.NbReadFrames, err)
		}
		p.Frames += n
	}
	return p, nil
}

// expectVideo checks for one h264 320x240 stream, what startFFmpeg encodes.
func (p probeResult) expectVideo(t *testing.T, what string) {
	t.Helper()
	if len(p.Streams) != 1 || p.Streams[0].CodecName != "h264" || p.Streams[0].Width != 320 || p.Streams[0].Height != 240 {
		t.Errorf("ffprobe %s: streams %+v, want one h264 320x240", what, p.Streams)
	}
}
