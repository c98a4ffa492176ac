package live

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

func testRegistry(t *testing.T, segments int, limit int64) *Registry {
	t.Helper()
	return New(Config{Segments: segments, MemoryLimit: limit}, Gauges{}, slog.New(slog.DiscardHandler))
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func arrival(seq uint64) Arrival {
	return Arrival{Edge: "e1", Boot: "b1", EdgeSeq: seq, Duration: 2, Start: time.Unix(1_700_000_000+int64(2*seq), 0)}
}

func readAll(t *testing.T, s *Segment) []byte {
	t.Helper()
	r, err := s.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendServesWhatArrived(t *testing.T) {
	r := testRegistry(t, 3, 64<<20)
	var seqs []uint64
	var datas [][]byte
	for i := range uint64(8) {
		data := randomBytes(100_000+int(i), i)
		seq, err := r.Append("id-1", "cam", 2, arrival(i+1), data)
		if err != nil {
			t.Fatal(err)
		}
		seqs, datas = append(seqs, seq), append(datas, bytes.Clone(data))
		// The caller's buffer is reused for the next upload.
		clear(data)
	}
	ls, ok := r.Get("cam")
	if !ok {
		t.Fatal("no stream by name")
	}
	if byID, _ := r.Get("id-1"); byID != ls {
		t.Fatal("by id and by name differ")
	}
	pl, err := hls.ParseMediaPlaylist(bytes.NewReader(ls.Playlist()), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Segments) != 3 || strings.Contains(string(ls.Playlist()), "DISCONTINUITY") {
		t.Fatalf("playlist:\n%s", ls.Playlist())
	}
	// Listed: the newest three; kept for late players: the three before.
	for i, seq := range seqs {
		seg, ok := ls.Segment(seq)
		held := i >= len(seqs)-6
		if ok != held {
			t.Fatalf("segment %d held=%v, want %v", i, ok, held)
		}
		if ok && !bytes.Equal(readAll(t, seg), datas[i]) {
			t.Fatalf("segment %d: other bytes", i)
		}
	}
	if b, n := r.Held(); n != 6 || b != int64(len(datas[2])+len(datas[3])+len(datas[4])+len(datas[5])+len(datas[6])+len(datas[7])) {
		t.Fatalf("held %d bytes in %d segments", b, n)
	}
	// A range read.
	seg, _ := ls.Segment(seqs[7])
	part := make([]byte, 50)
	if _, err := seg.ReadAt(part, 1000); err != nil || !bytes.Equal(part, datas[7][1000:1050]) {
		t.Fatalf("ReadAt: %v", err)
	}
}

func TestReleasedSegmentIsGone(t *testing.T) {
	r := testRegistry(t, 3, 64<<20)
	first, _ := r.Append("id", "cam", 2, arrival(1), randomBytes(1000, 1))
	ls, _ := r.Get("id")
	seg, ok := ls.Segment(first)
	if !ok {
		t.Fatal("not held")
	}
	open, err := seg.Open() // a request already sending it
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(7) {
		if _, err := r.Append("id", "cam", 2, arrival(i+2), randomBytes(1000, i+2)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := ls.Segment(first); ok {
		t.Fatal("a segment past the tail is still held")
	}
	if _, err := seg.Open(); !errors.Is(err, ErrGone) {
		t.Fatalf("Open after release: %v", err)
	}
	// The request that opened it before the release still reads it whole.
	if b, err := io.ReadAll(open); err != nil || len(b) != 1000 {
		t.Fatalf("open reader after release: %d bytes, %v", len(b), err)
	}
	open.Close()
}

func TestDiscontinuityWhenTheRunChanges(t *testing.T) {
	r := testRegistry(t, 5, 64<<20)
	add := func(a Arrival) {
		if _, err := r.Append("id", "cam", 2, a, []byte{0x47}); err != nil {
			t.Fatal(err)
		}
	}
	add(arrival(1))
	add(arrival(2))
	ls, _ := r.Get("id")
	if strings.Contains(string(ls.Playlist()), "DISCONTINUITY") {
		t.Fatal("contiguous segments of one run marked discontinuous")
	}
	add(arrival(4)) // one lost between
	if n := strings.Count(string(ls.Playlist()), "#EXT-X-DISCONTINUITY\n"); n != 1 {
		t.Fatalf("a skipped edge sequence: %d discontinuities", n)
	}
	a := arrival(5)
	a.Boot = "b2" // the edge restarted
	add(a)
	a = arrival(6)
	a.Boot, a.Discontinuity = "b2", true // the edge flagged one
	add(a)
	if n := strings.Count(string(ls.Playlist()), "#EXT-X-DISCONTINUITY\n"); n != 3 {
		t.Fatalf("want 3 discontinuities:\n%s", ls.Playlist())
	}
}

func TestMemoryLimit(t *testing.T) {
	const size = 1 << 20
	r := testRegistry(t, 3, 7*size) // room for two windows' listed segments, not their tails
	for i := range uint64(5) {
		if _, err := r.Append("a", "cam-a", 2, arrival(i+1), randomBytes(size, i)); err != nil {
			t.Fatalf("a %d: %v", i, err)
		}
	}
	if _, n := r.Held(); n != 5 {
		t.Fatalf("a holds %d segments, want 3 listed + 2 slid out", n)
	}
	for i := range uint64(3) {
		if _, err := r.Append("b", "cam-b", 2, arrival(i+1), randomBytes(size, 10+i)); err != nil {
			t.Fatalf("b %d: %v", i, err)
		}
	}
	// b's segments took the room of a's slid-out ones, never a listed one.
	a, _ := r.Get("a")
	pl, _ := hls.ParseMediaPlaylist(bytes.NewReader(a.Playlist()), 1<<20)
	for _, s := range pl.Segments {
		var seq uint64
		for _, c := range strings.TrimSuffix(s.URI, ".ts") {
			seq = seq*10 + uint64(c-'0')
		}
		if _, ok := a.Segment(seq); !ok {
			t.Fatalf("listed segment %s of a was released", s.URI)
		}
	}
	if b, _ := r.Held(); b > 7*size {
		t.Fatalf("held %d bytes, over the %d limit", b, 7*size)
	}
	// A third source fits one segment, then only listed segments are
	// left: refused loudly, nothing listed lost.
	if _, err := r.Append("c", "cam-c", 2, arrival(1), randomBytes(size, 99)); err != nil {
		t.Fatalf("c 0: %v", err)
	}
	if _, err := r.Append("c", "cam-c", 2, arrival(2), randomBytes(size, 98)); !errors.Is(err, ErrMemoryFull) {
		t.Fatalf("over the limit: %v", err)
	}
	if b, _ := r.Held(); b > 7*size {
		t.Fatalf("held %d bytes after a refusal", b)
	}
}

func TestCloseReleasesAndStaysClosed(t *testing.T) {
	r := testRegistry(t, 3, 64<<20)
	seq, _ := r.Append("id", "cam", 2, arrival(1), randomBytes(500, 1))
	ls, _ := r.Get("id")
	seg, _ := ls.Segment(seq)
	r.Close("id")
	if _, ok := r.Get("cam"); ok {
		t.Fatal("closed window still found")
	}
	if _, err := seg.Open(); !errors.Is(err, ErrGone) {
		t.Fatalf("segment of a closed window: %v", err)
	}
	if b, n := r.Held(); b != 0 || n != 0 {
		t.Fatalf("closed window still holds %d bytes in %d segments", b, n)
	}
	// An upload racing the switch does not bring the window back.
	if _, err := r.Append("id", "cam", 2, arrival(2), []byte{1}); !errors.Is(err, ErrStreamingOff) {
		t.Fatalf("append after close: %v", err)
	}
	r.Allow("id")
	next, err := r.Append("id", "cam", 2, arrival(3), []byte{1})
	if err != nil || next <= seq {
		t.Fatalf("reopened window: seq %d after %d, %v", next, seq, err)
	}
}

// TestConcurrentReadersWhileSliding: readers racing appends get either the
// exact bytes of the segment they asked for or a clean miss.
func TestConcurrentReadersWhileSliding(t *testing.T) {
	r := testRegistry(t, 3, 64<<20)
	want := sync.Map{}
	first, _ := r.Append("id", "cam", 1, arrival(1), randomBytes(4096, 1))
	want.Store(first, randomBytes(4096, 1))
	ls, _ := r.Get("id")
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				seq := first + uint64((n*7+g)%60)
				seg, ok := ls.Segment(seq)
				if !ok {
					continue
				}
				rd, err := seg.Open()
				if errors.Is(err, ErrGone) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(rd)
				rd.Close()
				w, _ := want.Load(seq)
				if !bytes.Equal(b, w.([]byte)) {
					t.Errorf("segment %d: other bytes", seq)
					return
				}
			}
		})
	}
	for i := uint64(2); i <= 60; i++ {
		data := randomBytes(4096, i)
		want.Store(first+i-1, bytes.Clone(data))
		if _, err := r.Append("id", "cam", 1, arrival(i), data); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}

// TestHeapFallback: where memfd is not allowed, segments are heap copies
// of the upload, not views of the caller's reused buffer.
func TestHeapFallback(t *testing.T) {
	r := testRegistry(t, 3, 64<<20)
	r.useMemfd = false
	data := randomBytes(2000, 5)
	want := bytes.Clone(data)
	seq, err := r.Append("id", "cam", 2, arrival(1), data)
	if err != nil {
		t.Fatal(err)
	}
	clear(data)
	ls, _ := r.Get("id")
	seg, _ := ls.Segment(seq)
	if !bytes.Equal(readAll(t, seg), want) {
		t.Fatal("heap segment changed with the caller's buffer")
	}
}

// TestResentUploadListedOnce: an edge whose answer was lost sends the
// segment again; the window lists it once, without a discontinuity.
func TestResentUploadListedOnce(t *testing.T) {
	r := testRegistry(t, 5, 64<<20)
	for _, seq := range []uint64{1, 2, 2, 3, 1} {
		_, err := r.Append("id", "cam", 2, arrival(seq), []byte{0x47})
		if err != nil && !errors.Is(err, ErrAlreadyListed) {
			t.Fatal(err)
		}
	}
	ls, _ := r.Get("id")
	pl := string(ls.Playlist())
	if n := strings.Count(pl, "#EXTINF"); n != 3 || strings.Contains(pl, "DISCONTINUITY") {
		t.Fatalf("want 3 segments, no discontinuity:\n%s", pl)
	}
}
