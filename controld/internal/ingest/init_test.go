package ingest_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"testing"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/controld/internal/live"
)

// fmp4Harness is a harness whose service holds init segments in a real
// live registry.
func fmp4Harness(t *testing.T) (*harness, *live.Registry) {
	t.Helper()
	h := newHarness(t)
	reg := live.New(live.Config{Segments: 3, MemoryLimit: 1 << 20}, live.Gauges{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.svc = ingest.New(ingest.Config{MaxSegmentBytes: maxSeg, Inits: reg}, h.binder, h.live, h.rec, h.events, fakeView{},
		ingest.Series{In: h.in, BytesIn: h.bytesIn, Dropped: h.droppd}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return h, reg
}

func initUpload(body []byte, id string) ingest.InitUpload {
	h := map[string]string{broker.HeaderEdge: "edge-1", broker.HeaderInit: id, broker.HeaderInitName: "init.mp4"}
	return ingest.InitUpload{
		Source: "cam", Header: func(name string) string { return h[name] }, ContentLength: len(body),
		Body: func() []byte { return body }, Addr: netip.MustParseAddr("192.0.2.7"),
	}
}

// TestAcceptInit: an init segment is held under its id, bound to the
// source like a segment; a segment naming it reaches the live window and
// the recordings with it; one naming an init segment not held is a 424
// and goes nowhere.
func TestAcceptInit(t *testing.T) {
	h, reg := fmp4Harness(t)
	data := []byte("ftyp moov")
	id := broker.InitID(data)
	buf := bytes.Clone(data)
	reply, err := h.svc.AcceptInit(t.Context(), initUpload(buf, id))
	if err != nil || reply.Init != id {
		t.Fatalf("AcceptInit = %+v, %v", reply, err)
	}
	copy(buf, "XXXX") // the listener reuses its buffer
	if got, ok := reg.Init("id-cam", id); !ok || !bytes.Equal(got.Data, data) {
		t.Fatalf("held init = %q, %v", got.Data, ok)
	}

	up := upload([]byte("moof"), map[string]string{broker.HeaderInit: id, broker.HeaderPurpose: "live,record", broker.HeaderRecordings: "r1"})
	if _, err := h.svc.Accept(t.Context(), up); err != nil {
		t.Fatal(err)
	}
	if a := h.live.calls[0].arrival; a.Init != id {
		t.Errorf("live arrival init %q, want %q", a.Init, id)
	}
	if s := h.rec.calls[0].seg; s.Init == nil || s.Init.ID != id || !bytes.Equal(s.Init.Data, data) {
		t.Errorf("recorded segment's init = %+v", s.Init)
	}

	other := broker.InitID([]byte("other"))
	_, err = h.svc.Accept(t.Context(), upload([]byte("moof"), map[string]string{broker.HeaderInit: other}))
	refusal(t, err, broker.StatusInitMissing, other, "not held")
	if len(h.live.calls) != 1 || len(h.rec.calls) != 1 {
		t.Errorf("a segment without its init went on: %d live, %d recorded", len(h.live.calls), len(h.rec.calls))
	}
	h.wantDropped(t, "init_missing")
	_, err = h.svc.Accept(t.Context(), upload([]byte("moof"), map[string]string{broker.HeaderInit: "nothex"}))
	refusal(t, err, http.StatusBadRequest, broker.HeaderInit)
}

// TestAcceptInitRefusals: every bad init upload is a 4xx naming the
// problem, and nothing is held.
func TestAcceptInitRefusals(t *testing.T) {
	h, reg := fmp4Harness(t)
	data := []byte("ftyp moov")
	id := broker.InitID(data)
	for name, c := range map[string]struct {
		up     func() ingest.InitUpload
		status int
		says   string
	}{
		"no id":          {func() ingest.InitUpload { return initUpload(data, "") }, http.StatusBadRequest, broker.HeaderInit},
		"id not of body": {func() ingest.InitUpload { return initUpload(data, broker.InitID([]byte("x"))) }, http.StatusBadRequest, "have id"},
		"chunked": {func() ingest.InitUpload {
			u := initUpload(data, id)
			u.ContentLength = -1
			return u
		}, http.StatusLengthRequired, "Content-Length"},
		"over the bound": {func() ingest.InitUpload {
			u := initUpload(data, id)
			u.ContentLength = broker.MaxInitBytes + 1
			return u
		}, http.StatusRequestEntityTooLarge, "over"},
		"empty": {func() ingest.InitUpload { return initUpload(nil, id) }, http.StatusBadRequest, "empty"},
		"short body": {func() ingest.InitUpload {
			u := initUpload(data, id)
			u.ContentLength = len(data) + 3
			return u
		}, http.StatusBadRequest, "Content-Length"},
		"unknown source": {func() ingest.InitUpload {
			u := initUpload(data, id)
			u.Source = "nope"
			return u
		}, http.StatusNotFound, "not registered"},
	} {
		_, err := h.svc.AcceptInit(t.Context(), c.up())
		if err == nil {
			t.Errorf("%s: taken", name)
			continue
		}
		t.Run(name, func(t *testing.T) { refusal(t, err, c.status, c.says) })
	}
	if _, ok := reg.Init("id-cam", id); ok {
		t.Error("an init segment of a refused upload is held")
	}
	// With auth on, a credential is needed first.
	ha := newAuthHarness(t)
	_, err := ha.svc.AcceptInit(t.Context(), initUpload(data, id))
	refusal(t, err, http.StatusUnauthorized)
}
