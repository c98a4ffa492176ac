package vod_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/controld/internal/vod"
	"github.com/lmx-video/lmx/hls"
)

// InitSegment serves canned init segments, by "id/init-{initID}".
func (f *fakeRecordings) InitSegment(_ context.Context, id, initID string) (*recording.Body, error) {
	if err := f.errs[id]; err != nil {
		return nil, err
	}
	b, ok := f.segments[id+"/init-"+initID]
	if !ok {
		return nil, fmt.Errorf("%w: recording has no init segment %s", recording.ErrNotFound, initID)
	}
	return &recording.Body{Reader: bytes.NewReader(b), Size: len(b), FMP4: true}, nil
}

// AcceptInit records an init upload as an upload.
func (f *fakeIngest) AcceptInit(_ context.Context, up ingest.InitUpload) (ingest.InitReply, error) {
	got := gotUpload{source: up.Source, auth: up.Authorization, headers: map[string]string{broker.HeaderInit: up.Header(broker.HeaderInit)},
		contentLength: up.ContentLength, body: bytes.Clone(up.Body()), arrived: up.Arrived}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads = append(f.uploads, got)
	return ingest.InitReply{Init: up.Header(broker.HeaderInit)}, f.err
}

// TestLiveFMP4: a window of fMP4 segments lists them as {seq}.m4s after
// an EXT-X-MAP naming init-{id}.mp4; the init segment is served as
// video/mp4 and the segments as video/iso.segment; a segment asked for
// under the other extension, or an init segment the node does not hold,
// is a 404.
func TestLiveFMP4(t *testing.T) {
	n := start(t, vod.Config{})
	initData := []byte("ftyp....moov....")
	id := broker.InitID(initData)
	n.live.PutInit("id-cam", id, initData)
	var seqs []uint64
	for i := range 3 {
		seq, err := n.live.Append("id-cam", "cam", 2, live.Arrival{Edge: "e", Boot: "b", EdgeSeq: uint64(i + 1), Duration: 2, Start: time.Now(), Init: id}, []byte("moof"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	a := n.get(t, api.LivePlaylistPath("cam")).wantStatus(t, http.StatusOK)
	p, err := hls.ParseMediaPlaylist(bytes.NewReader(a.body), 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 6 || len(p.Segments) != 3 {
		t.Fatalf("playlist:\n%s", a.body)
	}
	for i, s := range p.Segments {
		if s.Map != "init-"+id+".mp4" || s.URI != strconv.FormatUint(seqs[i], 10)+".m4s" {
			t.Errorf("segment %d: %+v", i, s)
		}
	}
	in := n.get(t, api.PathLivePrefix+"cam/"+p.Segments[0].Map).wantStatus(t, http.StatusOK)
	if !bytes.Equal(in.body, initData) || in.Header.Get("Content-Type") != "video/mp4" || in.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("init: %q %v", in.body, in.Header)
	}
	seg := n.get(t, api.PathLivePrefix+"cam/"+p.Segments[1].URI).wantStatus(t, http.StatusOK)
	if string(seg.body) != "moof1" || seg.Header.Get("Content-Type") != "video/iso.segment" {
		t.Errorf("segment: %q %v", seg.body, seg.Header)
	}
	n.get(t, segPath("cam", seqs[1])).wantStatus(t, http.StatusNotFound) // .ts of an fMP4 segment
	n.get(t, api.PathLivePrefix+"cam/init-"+strings.Repeat("0", broker.InitIDLen)+".mp4").wantStatus(t, http.StatusNotFound)
	n.get(t, api.PathLivePrefix+"cam/init-xyz.mp4").wantStatus(t, http.StatusNotFound)

	// An MPEG-TS segment is not served as .m4s.
	tsSeqs, _ := appendSegs(t, n.live, "fast", 1, 2)
	n.get(t, api.PathLivePrefix+"fast/"+strconv.FormatUint(tsSeqs[0], 10)+".m4s").wantStatus(t, http.StatusNotFound)
	n.get(t, segPath("fast", tsSeqs[0])).wantStatus(t, http.StatusOK)
}

// TestRecordingFMP4Files: a recording's init segment and fMP4 segments
// are served with their content types; a segment under the wrong
// extension is a 404.
func TestRecordingFMP4Files(t *testing.T) {
	n := start(t, vod.Config{})
	id := broker.InitID([]byte("init"))
	n.recs.segments = map[string][]byte{"r1/init-" + id: []byte("init")}
	a := n.get(t, api.PathRecordingPrefix+"r1/init-"+id+".mp4").wantStatus(t, http.StatusOK)
	if string(a.body) != "init" || a.Header.Get("Content-Type") != "video/mp4" {
		t.Errorf("init: %q %v", a.body, a.Header)
	}
	n.get(t, api.PathRecordingPrefix+"r1/init-"+strings.Repeat("1", broker.InitIDLen)+".mp4").wantStatus(t, http.StatusNotFound)
	n.get(t, api.PathRecordingPrefix+"r1/x.m4s").wantStatus(t, http.StatusNotFound)
}

// TestInitUploadRoute: PUT /v1/ingest/{source}/init reaches ingest with
// its headers and body; other methods do not.
func TestInitUploadRoute(t *testing.T) {
	n := start(t, vod.Config{})
	body := []byte("ftyp moov")
	id := broker.InitID(body)
	a := n.do(t, http.MethodPut, broker.InitPath("cam"), bytes.NewReader(body), map[string]string{broker.HeaderInit: id}).wantStatus(t, http.StatusCreated)
	if !strings.Contains(string(a.body), id) {
		t.Errorf("answer %s does not name the init", a.body)
	}
	got := n.ingest.lastUpload(t)
	if got.source != "cam" || !bytes.Equal(got.body, body) || got.headers[broker.HeaderInit] != id {
		t.Errorf("ingest got %+v", got)
	}
	n.do(t, http.MethodPost, broker.InitPath("cam"), bytes.NewReader(body), nil).wantStatus(t, http.StatusNotFound)
}

// AcceptInit counts the body reads of an init upload.
func (c countingIngest) AcceptInit(ctx context.Context, up ingest.InitUpload) (ingest.InitReply, error) {
	body := up.Body
	up.Body = func() []byte { c.reads.Add(1); return body() }
	return c.svc.AcceptInit(ctx, up)
}
