package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// chunkJSON is a recording as `lmx rec ls --json` prints it, with the
// fields retention adds.
type chunkJSON struct {
	recordingJSON
	Pinned     bool      `json:"pinned"`
	Continuous bool      `json:"continuous"`
	Alias      string    `json:"alias"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// TestContinuousRecordingAndSizeRetention records a source continuously in
// 10 s chunks for about 35 s and checks the chunks: they abut (each ends
// exactly where the next starts), each replays (ffprobe decodes its
// playlist), none has a gap, and together they hold every segment the edge
// made once: their segment counts add up to the objects stored, whose edge
// sequence numbers run without a hole. Then the control node is restarted
// with a --retain-size that the chunks exceed, with one chunk pinned:
// the oldest unpinned chunks go, their objects leave the store, the pinned
// one and the active one stay, and continuous recording carries on across
// the restart. The same body runs on the file store and on MinIO.
func TestContinuousRecordingAndSizeRetention(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"file", "s3"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			continuousSuite(t, newRecordStore(t, kind))
		})
	}
}

func continuousSuite(t *testing.T, store *recordStore) {
	const src = "cont-cam"
	cn := startRetentionNode(t, store, "--retention-every", "1s")
	edge := startEdge(t, lmxBin, "edge-cont-"+store.kind, cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	source := getSource(t, cn, src)

	out := mustLMX(t, cn, "source", "set", src, "--record", "always", "--record-chunk", "10s", "--json")
	var set struct {
		Record             string `json:"record"`
		RecordChunkSeconds int    `json:"record_chunk_seconds"`
	}
	if err := json.Unmarshal([]byte(out), &set); err != nil || set.Record != "always" || set.RecordChunkSeconds != 10 {
		t.Fatalf("source set --record always --record-chunk 10s --json: %v: %s", err, out)
	}

	// Four chunks stopped, the fifth recording. The first runs from
	// `source set` to the next boundary and may hold nothing; the three
	// after it are whole.
	var chunks []chunkJSON
	eventually(t, 75*time.Second, time.Second, "four stopped chunks and an active one", func() (bool, string) {
		chunks = listChunks(t, cn, src)
		return len(chunks) >= 5, fmt.Sprintf("%d chunks", len(chunks))
	})
	for i, c := range chunks {
		if !c.Continuous {
			t.Errorf("chunk %d (%s) is not marked continuous", i, c.ID)
		}
		if i < len(chunks)-1 && !c.EndTS.Equal(chunks[i+1].StartTS) {
			t.Errorf("chunk %d ends %s, chunk %d starts %s: chunks must abut", i, c.EndTS.Format(time.RFC3339Nano), i+1, chunks[i+1].StartTS.Format(time.RFC3339Nano))
		}
		if i > 0 && (c.StartTS.UnixNano()%int64(10*time.Second) != 0) {
			t.Errorf("chunk %d starts %s, not on a 10 s boundary", i, c.StartTS.Format(time.RFC3339Nano))
		}
		if !strings.HasPrefix(c.Alias, src+" ") {
			t.Errorf("chunk %d alias %q", i, c.Alias)
		}
	}
	if chunks[len(chunks)-1].Active != 1 || slices.ContainsFunc(chunks[:len(chunks)-1], func(c chunkJSON) bool { return c.Active == 1 }) {
		t.Errorf("want exactly the newest chunk active: %+v", chunks)
	}

	// Each stopped chunk, once the edge has sent what it buffered, replays
	// and has no gap; consecutive chunks' media meet.
	stopped := chunks[:4]
	for i := range stopped {
		c := waitChunkComplete(t, cn, stopped[i])
		stopped[i] = c
		// The first chunk runs from `source set` to the next boundary: it
		// may be shorter than a segment, and then holds none.
		if i == 0 && c.EndTS.Sub(c.StartTS) < 2*time.Second {
			t.Logf("chunk 0 is %s long, %d segments", c.EndTS.Sub(c.StartTS), c.Segments)
			continue
		}
		if len(c.Gaps) != 0 || c.Segments < 1 || i > 0 && c.Segments < 5 {
			t.Errorf("chunk %d: %d segments, gaps %+v; want about 10 one-second segments (the first: what is left to its boundary) and no gap", i, c.Segments, c.Gaps)
		}
		if c.FirstSegmentAt.Before(c.StartTS) || !c.FirstSegmentAt.Before(c.EndTS) {
			t.Errorf("chunk %d: first segment at %s, outside [%s, %s): a chunk takes the segments that start inside it", i, c.FirstSegmentAt, c.StartTS, c.EndTS)
		}
		expectH264(t, cn.grantURL(t, "recording", c.ID))
	}
	for i := 0; i+1 < len(stopped); i++ {
		if stopped[i].Segments == 0 {
			continue
		}
		if d := stopped[i+1].FirstSegmentAt.Sub(stopped[i].LastSegmentEnd); d < -200*time.Millisecond || d > 200*time.Millisecond {
			t.Errorf("chunk %d's media ends %s, chunk %d's starts %s (%s apart): not contiguous", i, stopped[i].LastSegmentEnd, i+1, stopped[i+1].FirstSegmentAt, d)
		}
	}
	// One object per segment, in no two chunks, none missing: the objects
	// of the stopped chunks are the edge's run with no hole.
	// The store copies from the spool with several workers, so a newer
	// object may land before an older one: look until the run is whole.
	var objs map[string]int64
	eventually(t, 15*time.Second, 250*time.Millisecond, "stored objects: one edge run without a hole", func() (bool, string) {
		var err error
		if objs, err = store.objects(t, cn, source.ID); err != nil {
			return false, err.Error()
		}
		var seqs []uint64
		for key := range objs {
			_, seq, err := parseObjectKey(key, source.ID, edge.name)
			if err != nil {
				t.Fatalf("object %s: %v", key, err)
			}
			seqs = append(seqs, seq)
		}
		slices.Sort(seqs)
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				return false, fmt.Sprintf("edge sequence %d follows %d", seqs[i], seqs[i-1])
			}
		}
		return len(seqs) > 0, fmt.Sprintf("%d objects", len(seqs))
	})
	inStopped := 0
	for _, c := range stopped {
		inStopped += c.Segments
	}
	if len(objs) < inStopped {
		t.Errorf("%d objects stored, fewer than the %d segments of the stopped chunks: a segment is counted in two chunks", len(objs), inStopped)
	}
	t.Logf("chunks: %d stopped with %d segments; %d objects stored", len(stopped), inStopped, len(objs))

	// Pin the second chunk, then restart the node (continuous recording
	// must carry on across it) with a cap half a chunk above what is
	// stored now, and follow its events: as recording goes on, the store
	// outgrows the cap and the oldest unpinned chunks go, one by one.
	// The whole chunks, oldest first: retention by size takes the oldest
	// that frees something (an empty first chunk frees nothing and stays).
	whole := stopped[1:]
	pinned := whole[1]
	if out := mustLMX(t, cn, "rec", "pin", pinned.ID); !strings.Contains(out, "retention never deletes it") {
		t.Errorf("rec pin: %q", out)
	}
	var total int64
	for _, n := range objs {
		total += n
	}
	capBytes := total + whole[2].Bytes/2
	t.Logf("store %d bytes; restarting with --retain-size %d", total, capBytes)
	cn.proc.Stop()
	cn.extra = append(cn.extra, "--retain-size", fmt.Sprint(capBytes))
	cn.start()
	events := followEvents(t, cn)

	eventually(t, 60*time.Second, 500*time.Millisecond, "the oldest unpinned chunks deleted for --retain-size", func() (bool, string) {
		now := listChunks(t, cn, src)
		gone := !slices.ContainsFunc(now, func(c chunkJSON) bool { return c.ID == whole[0].ID || c.ID == whole[2].ID })
		return gone, fmt.Sprintf("%d chunks", len(now))
	})
	after := listChunks(t, cn, src)
	if !slices.ContainsFunc(after, func(c chunkJSON) bool { return c.ID == pinned.ID && c.Pinned }) {
		t.Errorf("the pinned chunk %s is gone: %+v", pinned.ID, after)
	}
	if !slices.ContainsFunc(after, func(c chunkJSON) bool { return c.Active == 1 }) {
		t.Errorf("no active chunk after the restart: %+v", after)
	}
	for _, id := range []string{whole[0].ID, whole[2].ID} {
		if r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/recording/"+url.PathEscape(id), nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET deleted chunk %s: %s, want 404", id, r)
		}
	}
	eventually(t, 10*time.Second, 250*time.Millisecond, "recording.expired events naming --retain-size", func() (bool, string) {
		evs := events.kind("recording.expired")
		ok := slices.ContainsFunc(evs, func(e eventJSON) bool {
			return e.Recording == whole[2].ID && strings.Contains(e.Detail, "over --retain-size")
		})
		return ok, fmt.Sprintf("%+v", evs)
	})
	if m := metricValues(t, cn, "lmx_retention_deleted_recordings_total"); m[`{reason="size"}`] < 2 {
		t.Errorf("lmx_retention_deleted_recordings_total: %v, want size ≥ 2", m)
	}
	if m := metricValues(t, cn, "lmx_recordings_pinned_bytes"); m[""] != float64(pinned.Bytes) {
		t.Errorf("lmx_recordings_pinned_bytes: %v, want %d", m, pinned.Bytes)
	}

	// Stop recording; once the store is still, it holds exactly the
	// objects of the recordings left, the pinned chunk's all there.
	mustLMX(t, cn, "source", "set", src, "--record", "off")
	eventually(t, 20*time.Second, 500*time.Millisecond, "record off stops the active chunk", func() (bool, string) {
		now := listChunks(t, cn, src)
		return !slices.ContainsFunc(now, func(c chunkJSON) bool { return c.Active == 1 }), fmt.Sprintf("%+v", now)
	})
	left := listChunks(t, cn, src)
	for i := range left {
		left[i] = waitChunkComplete(t, cn, left[i])
	}
	// Retention may still be deleting what the last chunk pushed over the
	// cap: wait until the store and the recordings agree.
	eventually(t, 20*time.Second, 500*time.Millisecond, "objects stored = segments of the recordings left", func() (bool, string) {
		left = listChunks(t, cn, src)
		sum := 0
		for _, c := range left {
			sum += getRecording(t, cn, c.ID).Segments
		}
		objs, err := store.objects(t, cn, source.ID)
		if err != nil {
			return false, err.Error()
		}
		return len(objs) == sum, fmt.Sprintf("%d objects, %d segments in %d recordings", len(objs), sum, len(left))
	})
	for _, c := range left {
		if c.ID == pinned.ID && c.Segments != pinned.Segments {
			t.Errorf("the pinned chunk has %d segments, had %d", c.Segments, pinned.Segments)
		}
	}
}

// TestRetainByAge keeps a continuously recorded source's chunks for 20 s
// (lmx source set --retain 20s): a chunk goes once 20 s have passed since
// it stopped, with its objects, and says so; expires_at said when.
func TestRetainByAge(t *testing.T) {
	t.Parallel()
	const src = "age-cam"
	store := newRecordStore(t, "file")
	cn := startRetentionNode(t, store, "--retention-every", "1s")
	edge := startEdge(t, lmxBin, "edge-age", cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	source := getSource(t, cn, src)
	events := followEvents(t, cn)
	mustLMX(t, cn, "source", "set", src, "--record", "always", "--record-chunk", "10s", "--retain", "20s")

	var first chunkJSON
	// The first stopped chunk at least 5 s long (the very first runs from
	// `source set` to the next boundary, and may be too short to hold a
	// segment).
	eventually(t, 40*time.Second, time.Second, "a stopped chunk", func() (bool, string) {
		cs := listChunks(t, cn, src)
		for _, c := range cs {
			if c.Active != 1 && c.EndTS.Sub(c.StartTS) >= 5*time.Second {
				first = c
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d chunks", len(cs))
	})
	if want := first.EndTS.Add(20 * time.Second); !first.ExpiresAt.Equal(want) {
		t.Errorf("expires_at %s, want end + 20 s = %s", first.ExpiresAt, want)
	}
	first = waitChunkComplete(t, cn, first)
	objs, err := store.objects(t, cn, source.ID)
	if err != nil || len(objs) < first.Segments || first.Segments < 4 {
		t.Fatalf("chunk of %d segments; %d objects, %v", first.Segments, len(objs), err)
	}
	// Not before its time.
	if time.Now().Before(first.ExpiresAt.Add(-2 * time.Second)) {
		if r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/recording/"+first.ID, nil, nil); r.Status != http.StatusOK {
			t.Errorf("chunk %s gone before it expired: %s", first.ID, r)
		}
	}
	eventually(t, 40*time.Second, 500*time.Millisecond, "the first chunk deleted 20 s after its stop", func() (bool, string) {
		r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/recording/"+first.ID, nil, nil)
		return r.Status == http.StatusNotFound, r.String()
	})
	if late := time.Since(first.ExpiresAt); late < 0 || late > 5*time.Second {
		t.Errorf("deleted %s after expires_at, want within a retention pass or two", late)
	}
	var ev eventJSON
	eventually(t, 10*time.Second, 250*time.Millisecond, "a recording.expired event", func() (bool, string) {
		for _, e := range events.kind("recording.expired") {
			if e.Recording == first.ID {
				ev = e
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", events.kind("recording.expired"))
	})
	if !strings.Contains(ev.Detail, "older than retain 20s") || ev.Source != src {
		t.Errorf("event %+v, want source %s and 'older than retain 20s'", ev, src)
	}
	// Its own objects left the store.
	after, err := store.objects(t, cn, source.ID)
	if err != nil {
		t.Fatal(err)
	}
	firstKeys := 0
	for k := range objs {
		if _, ok := after[k]; !ok {
			firstKeys++
		}
	}
	if firstKeys < first.Segments {
		t.Errorf("%d objects left the store, want the chunk's %d", firstKeys, first.Segments)
	}
	if m := metricValues(t, cn, "lmx_retention_deleted_recordings_total"); m[`{reason="age"}`] < 1 {
		t.Errorf("lmx_retention_deleted_recordings_total: %v", m)
	}
}

// startRetentionNode starts a control node on the store with extra flags.
func startRetentionNode(t *testing.T, s *recordStore, extra ...string) *controlNode {
	t.Helper()
	if s.minio == nil {
		return startControld(t, extra...)
	}
	u := fmt.Sprintf("s3://%s/%s?endpoint=%s&secure=false", recBucket, recPrefix, s.minio.endpoint())
	return startControldEnv(t, s.minio.env(), append([]string{"--recordings", u}, extra...)...)
}

// listChunks is `lmx rec ls --source SRC --json`, continuous chunks oldest first.
func listChunks(t *testing.T, cn *controlNode, src string) []chunkJSON {
	t.Helper()
	var all []chunkJSON
	if err := json.Unmarshal([]byte(mustLMX(t, cn, "rec", "ls", "--source", src, "--json")), &all); err != nil {
		t.Fatalf("rec ls --json: %v", err)
	}
	var out []chunkJSON
	for _, c := range all {
		if c.Continuous {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartTS.Before(out[j].StartTS) })
	return out
}

// waitChunkComplete waits until a stopped chunk's media reaches past its
// end less one segment (the edge sends what it buffered) and stays the same
// for a second, and returns it with its gaps.
func waitChunkComplete(t *testing.T, cn *controlNode, c chunkJSON) chunkJSON {
	t.Helper()
	var got chunkJSON
	prev := -1
	eventually(t, 20*time.Second, time.Second, "chunk "+c.ID+" complete", func() (bool, string) {
		r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/recording/"+url.PathEscape(c.ID), nil, nil)
		var out struct {
			Recording chunkJSON `json:"recording"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil {
			return false, r.String()
		}
		got = out.Recording
		// Media reaches to within a segment of the end, or the chunk is
		// shorter than a segment (the first one may be) and holds what it
		// holds once that stops changing.
		seg := time.Duration(recSegment * float64(time.Second))
		reached := got.LastSegmentEnd.After(got.EndTS.Add(-seg)) || got.EndTS.Sub(got.StartTS) < 2*seg
		done := got.Active != 1 && reached && got.Segments == prev
		prev = got.Segments
		return done, fmt.Sprintf("%d segments, media to %s, end %s", got.Segments, got.LastSegmentEnd, got.EndTS)
	})
	return got
}

// eventJSON is one event of GET /v1/events.
type eventJSON struct {
	Kind      string `json:"kind"`
	Source    string `json:"source"`
	Recording string `json:"recording"`
	Detail    string `json:"detail"`
}

// eventLog collects a node's event stream: every line as it came, and the
// events parsed.
type eventLog struct {
	mu  sync.Mutex
	raw strings.Builder
	evs []eventJSON
}

// text is every line of the stream so far.
func (l *eventLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.raw.String()
}

func (l *eventLog) kind(k string) []eventJSON {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []eventJSON
	for _, e := range l.evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// followEvents reads the node's event stream (as its admin) until the test
// ends or the node stops.
func followEvents(t *testing.T, cn *controlNode) *eventLog {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, cn.apiURL+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	// No client timeout: the stream stays open for the test.
	resp, err := (&http.Client{Transport: authTransport{nodeTLS{}}}).Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/events: %v %v", err, resp)
	}
	l := &eventLog{}
	done := make(chan struct{})
	t.Cleanup(func() { resp.Body.Close(); <-done })
	go func() {
		defer close(done)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.raw.WriteString(sc.Text())
			l.raw.WriteByte('\n')
			l.mu.Unlock()
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e eventJSON
			if json.Unmarshal([]byte(data), &e) == nil && e.Kind != "" {
				l.mu.Lock()
				l.evs = append(l.evs, e)
				l.mu.Unlock()
			}
		}
	}()
	return l
}
