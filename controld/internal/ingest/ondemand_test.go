package ingest_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/sqlstore"
)

// awakeSet is the on-demand component as ingest sees it.
type awakeSet map[string]bool

func (a awakeSet) Awake(id string) bool { return a[id] }

// TestAcceptOnDemandAsleep: a live upload of a sleeping on-demand source
// (still on its way when it fell asleep, or from an edge that has not
// heard yet) is taken but not listed live; awake, it is.
func TestAcceptOnDemandAsleep(t *testing.T) {
	awake := awakeSet{}
	lw := &fakeLive{}
	binder := &fakeBinder{srcs: map[string]sqlstore.Source{
		"cam": {ID: "id-cam", Name: "cam", SegmentLen: 2, Streaming: true, OnDemand: true},
	}}
	svc := ingest.New(ingest.Config{MaxSegmentBytes: maxSeg, OnDemand: awake}, binder, lw, &fakeRecorder{}, &eventstest.Recorder{}, fakeView{},
		ingest.Series{
			In:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "in"}, []string{"source"}),
			BytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bytes_in"}, []string{"source"}),
			Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dropped"}, []string{"reason"}),
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))

	out, err := svc.Accept(t.Context(), upload([]byte("segment"), nil))
	if err != nil || out.Live {
		t.Fatalf("asleep: live %v, err %v; want taken, not live", out.Live, err)
	}
	if len(lw.calls) != 0 {
		t.Fatalf("asleep: appended to the live window %d times", len(lw.calls))
	}
	awake["id-cam"] = true
	out, err = svc.Accept(t.Context(), upload([]byte("segment"), map[string]string{broker.HeaderSeq: "42"}))
	if err != nil || !out.Live || len(lw.calls) != 1 {
		t.Fatalf("awake: live %v, err %v, %d appends; want listed", out.Live, err, len(lw.calls))
	}
}
