package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/sqlstore"
)

// fakeBinder knows the sources in srcs and records every call.
type fakeBinder struct {
	mu    sync.Mutex
	srcs  map[string]sqlstore.Source
	err   error // returned instead of a source when set
	calls []bindCall
}

type bindCall struct{ edge, name string }

func (b *fakeBinder) BindSource(_ context.Context, edge, name string) (sqlstore.Source, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, bindCall{edge, name})
	if b.err != nil {
		return sqlstore.Source{}, b.err
	}
	src, ok := b.srcs[name]
	if !ok {
		return sqlstore.Source{}, fmt.Errorf("source %q: %w", name, sqlstore.ErrNotFound)
	}
	src.Edge = edge
	return src, nil
}

// fakeLive records appends and answers err.
type fakeLive struct {
	mu    sync.Mutex
	err   error
	calls []appendCall
}

type appendCall struct {
	id, name   string
	segmentLen int
	arrival    live.Arrival
	data       []byte
}

func (l *fakeLive) Append(id, name string, segmentLen int, a live.Arrival, data []byte) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, appendCall{id, name, segmentLen, a, bytes.Clone(data)})
	if l.err != nil {
		return 0, l.err
	}
	return uint64(len(l.calls)), nil
}

// fakeRecorder records calls and acks the ids it is given unless told otherwise.
type fakeRecorder struct {
	mu       sync.Mutex
	err      error
	rejected []string // ids answered as rejected
	calls    []recordCall
}

type recordCall struct {
	seg  recording.Segment
	ids  []string
	data []byte
}

func (r *fakeRecorder) Record(_ context.Context, seg recording.Segment, ids []string, data []byte) (acked, rejected []string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, recordCall{seg, append([]string(nil), ids...), bytes.Clone(data)})
	if r.err != nil {
		return nil, nil, r.err
	}
	for _, id := range ids {
		if contains(r.rejected, id) {
			rejected = append(rejected, id)
		} else {
			acked = append(acked, id)
		}
	}
	return acked, rejected, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fakeView renders the fields a test can recognise.
type fakeView struct{}

func (fakeView) Source(_ context.Context, src sqlstore.Source) api.Source {
	return api.Source{ID: src.ID, Name: src.Name, Edge: src.Edge, Description: "rendered"}
}

// fakeEdges knows edge credentials: credential → edge.
type fakeEdges map[string]string

func (f fakeEdges) AuthenticateEdge(credential string) (string, error) {
	if credential == "" {
		return "", fmt.Errorf("%w: send the edge's credential", auth.ErrNoCredential)
	}
	edge, ok := f[credential]
	if !ok {
		return "", fmt.Errorf("%w: the edge credential is not known to this control node", auth.ErrBadCredential)
	}
	return edge, nil
}

// fakeGate records failures and blocks while retry is set.
type fakeGate struct {
	mu      sync.Mutex
	retry   time.Duration
	failed  []gateFailure
	blocked []netip.Addr
}

type gateFailure struct {
	addr   netip.Addr
	reason string
}

func (g *fakeGate) Blocked(addr netip.Addr) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.retry > 0 {
		g.blocked = append(g.blocked, addr)
		return g.retry, true
	}
	return 0, false
}

func (g *fakeGate) Failed(addr netip.Addr, reason string, _ error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failed = append(g.failed, gateFailure{addr, reason})
}

func (g *fakeGate) failures() []gateFailure {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gateFailure(nil), g.failed...)
}

// Edge credentials the auth harness knows.
const (
	credEdge1 = "lmx_edge_one"
	credEdge2 = "lmx_edge_two"
)

// harness is a Service on fakes, with its own metric series.
type harness struct {
	svc                 *ingest.Service
	binder              *fakeBinder
	live                *fakeLive
	rec                 *fakeRecorder
	events              *eventstest.Recorder
	gate                *fakeGate
	in, bytesIn, droppd *prometheus.CounterVec
}

const maxSeg = 1000

// newHarness is a Service with auth off (nil Edges: Lmx-Edge is trusted).
func newHarness(t *testing.T) *harness { return newHarnessWith(t, nil) }

// newAuthHarness is a Service that authenticates edges by credential
// (credEdge1 is edge-1's, credEdge2 edge-2's), through a fake gate.
func newAuthHarness(t *testing.T) *harness {
	return newHarnessWith(t, fakeEdges{credEdge1: "edge-1", credEdge2: "edge-2"})
}

func newHarnessWith(t *testing.T, edges ingest.EdgeAuthenticator) *harness {
	t.Helper()
	h := &harness{
		binder: &fakeBinder{srcs: map[string]sqlstore.Source{
			"cam":     {ID: "id-cam", Name: "cam", SegmentLen: 4, Streaming: true},
			"cam-off": {ID: "id-off", Name: "cam-off", SegmentLen: 2},
		}},
		live:    &fakeLive{},
		rec:     &fakeRecorder{},
		events:  &eventstest.Recorder{},
		gate:    &fakeGate{},
		in:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "in"}, []string{"source"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bytes_in"}, []string{"source"}),
		droppd:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dropped"}, []string{"reason"}),
	}
	cfg := ingest.Config{MaxSegmentBytes: maxSeg}
	if edges != nil {
		cfg.Edges, cfg.Gate = edges, h.gate
	}
	h.svc = ingest.New(cfg, h.binder, h.live, h.rec, h.events, fakeView{},
		ingest.Series{In: h.in, BytesIn: h.bytesIn, Dropped: h.droppd}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return h
}

// wantDropped fails t unless exactly one segment was dropped, for reason
// ("" for none).
func (h *harness) wantDropped(t *testing.T, reason string) {
	t.Helper()
	n := testutil.CollectAndCount(h.droppd)
	if reason == "" {
		if n != 0 {
			t.Errorf("dropped series: %d, want none", n)
		}
		return
	}
	if got := testutil.ToFloat64(h.droppd.WithLabelValues(reason)); n != 1 || got != 1 {
		t.Errorf("dropped{reason=%q} = %v with %d series, want 1 with 1 series", reason, got, n)
	}
}

var (
	start   = time.Date(2025, 3, 4, 5, 6, 7, 500_000_000, time.UTC)
	arrived = time.Date(2025, 3, 4, 5, 6, 10, 0, time.UTC)
)

// upload is a valid live upload of body to source "cam"; hdr overrides or
// (with "") removes headers.
func upload(body []byte, hdr map[string]string) ingest.Upload {
	h := map[string]string{
		broker.HeaderEdge:     "edge-1",
		broker.HeaderBoot:     "boot-9",
		broker.HeaderSeq:      "41",
		broker.HeaderDuration: "2.5",
		broker.HeaderStart:    start.Format(time.RFC3339Nano),
		broker.HeaderPurpose:  "live",
	}
	for k, v := range hdr {
		h[k] = v
	}
	return ingest.Upload{
		Source:        "cam",
		Header:        func(name string) string { return h[name] },
		ContentLength: len(body),
		Body:          func() []byte { return body },
		Arrived:       arrived,
		Addr:          netip.MustParseAddr("192.0.2.7"),
	}
}

// countBody makes up's Body count its calls in *n.
func countBody(up *ingest.Upload, n *int) {
	body := up.Body
	up.Body = func() []byte { *n++; return body() }
}

// refusal fails t unless err is an *ingest.Error of status whose message
// mentions every part.
func refusal(t *testing.T, err error, status int, parts ...string) *ingest.Error {
	t.Helper()
	var ie *ingest.Error
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v (%T), want *ingest.Error %d", err, err, status)
	}
	if ie.Status != status {
		t.Errorf("status %d (%q), want %d", ie.Status, ie.Message, status)
	}
	for _, p := range parts {
		if !strings.Contains(ie.Message, p) {
			t.Errorf("message %q does not mention %q", ie.Message, p)
		}
	}
	return ie
}

// TestAcceptAuthOff: with no EdgeAuthenticator the Lmx-Edge header names
// the edge and an Authorization header is ignored.
func TestAcceptAuthOff(t *testing.T) {
	for _, authz := range []string{"", "Bearer whatever", "Basic x"} {
		h := newHarness(t)
		up := upload([]byte("segment"), map[string]string{broker.HeaderEdge: "edge-7"})
		up.Authorization = authz
		reply, err := h.svc.Accept(t.Context(), up)
		if err != nil || !reply.Live {
			t.Fatalf("Authorization %q: Accept = %+v, %v; want live", authz, reply, err)
		}
		if want := []bindCall{{"edge-7", "cam"}}; fmt.Sprint(h.binder.calls) != fmt.Sprint(want) {
			t.Errorf("bind calls %v, want %v", h.binder.calls, want)
		}
		if got := h.live.calls[0].arrival.Edge; got != "edge-7" {
			t.Errorf("live arrival edge %q, want edge-7", got)
		}
		h.wantDropped(t, "")
	}
}

// TestAcceptAuthorization: with edge credentials, the edge is the
// credential's; refused uploads never have their body read.
func TestAcceptAuthorization(t *testing.T) {
	body := []byte("segment")
	for _, tt := range []struct {
		name, auth, edgeHdr string
		status              int    // 0: accepted
		message             string // what the refusal's message names
		failed              string // the reason counted by the gate, "" for none
		edge                string // the edge it is accepted as
	}{
		{"credential, header agrees", "Bearer " + credEdge1, "edge-1", 0, "", "", "edge-1"},
		{"credential, no header", "Bearer " + credEdge2, "", 0, "", "", "edge-2"},
		{"spaces around the credential", "Bearer   " + credEdge1 + " ", "edge-1", 0, "", "", "edge-1"},
		{"header names another edge", "Bearer " + credEdge1, "edge-2", http.StatusForbidden, `"edge-2" but the credential is edge "edge-1"`, "", ""},
		{"no credential", "", "edge-1", http.StatusUnauthorized, "no credential", "", ""},
		{"empty bearer", "Bearer ", "edge-1", http.StatusUnauthorized, "no credential", "", ""},
		{"unknown credential", "Bearer lmx_edge_nope", "edge-1", http.StatusUnauthorized, "not known", "credential", ""},
		{"bare credential without the scheme", credEdge1, "edge-1", http.StatusUnauthorized, "Bearer CREDENTIAL", "malformed", ""},
		{"other scheme", "Basic " + credEdge1, "edge-1", http.StatusUnauthorized, "Bearer CREDENTIAL", "malformed", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newAuthHarness(t)
			up := upload(body, map[string]string{broker.HeaderEdge: tt.edgeHdr})
			up.Authorization = tt.auth
			var reads int
			countBody(&up, &reads)
			reply, err := h.svc.Accept(t.Context(), up)
			if tt.status == 0 {
				if err != nil || !reply.Live {
					t.Fatalf("Accept = %+v, %v; want live", reply, err)
				}
				if want := []bindCall{{tt.edge, "cam"}}; fmt.Sprint(h.binder.calls) != fmt.Sprint(want) {
					t.Errorf("bind calls %v, want %v", h.binder.calls, want)
				}
				if got := h.live.calls[0].arrival.Edge; got != tt.edge {
					t.Errorf("live arrival edge %q, want %q", got, tt.edge)
				}
				if reads != 1 {
					t.Errorf("Body called %d times, want once", reads)
				}
				if f := h.gate.failures(); len(f) != 0 {
					t.Errorf("gate failures %v for an accepted upload", f)
				}
				h.wantDropped(t, "")
				return
			}
			ie := refusal(t, err, tt.status, tt.message)
			if ie.RetryAfter != 0 {
				t.Errorf("RetryAfter %v on a %d", ie.RetryAfter, tt.status)
			}
			if reads != 0 {
				t.Errorf("Body called %d times for a refused upload", reads)
			}
			if len(h.binder.calls) != 0 || len(h.live.calls) != 0 {
				t.Errorf("refused upload reached the binder (%d) or the live windows (%d)", len(h.binder.calls), len(h.live.calls))
			}
			var want []gateFailure
			if tt.failed != "" {
				want = []gateFailure{{up.Addr, tt.failed}}
			}
			if got := h.gate.failures(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("gate failures %v, want %v", got, want)
			}
			h.wantDropped(t, "unauthorized")
		})
	}
}

// TestAcceptBlocked: an address the gate blocks is answered 429 with when
// to come back, before its credential is even looked at (a good one too).
func TestAcceptBlocked(t *testing.T) {
	for _, authz := range []string{"Bearer " + credEdge1, "Bearer lmx_edge_nope", ""} {
		h := newAuthHarness(t)
		h.gate.retry = 42 * time.Second
		up := upload([]byte("segment"), nil)
		up.Authorization = authz
		var reads int
		countBody(&up, &reads)
		_, err := h.svc.Accept(t.Context(), up)
		ie := refusal(t, err, http.StatusTooManyRequests, "too many failed authentications", "192.0.2.7")
		if ie.RetryAfter != 42*time.Second {
			t.Errorf("RetryAfter %v, want 42s", ie.RetryAfter)
		}
		if reads != 0 || len(h.binder.calls) != 0 {
			t.Errorf("blocked upload: Body called %d times, binder %d", reads, len(h.binder.calls))
		}
		if f := h.gate.failures(); len(f) != 0 {
			t.Errorf("a blocked request counted as a failure again: %v", f)
		}
		h.wantDropped(t, "unauthorized")
	}
}

// TestAcceptNeverReadsRefusedBodies: every refusal that comes before the
// body (credential, headers, length) leaves it unread.
func TestAcceptNeverReadsRefusedBodies(t *testing.T) {
	for _, tt := range []struct {
		name   string
		edit   func(*ingest.Upload)
		status int
	}{
		{"bad source name", func(u *ingest.Upload) { u.Source = "a/b" }, http.StatusBadRequest},
		{"bad headers", func(u *ingest.Upload) {
			hdr := u.Header
			u.Header = func(n string) string {
				if n == broker.HeaderSeq {
					return "x"
				}
				return hdr(n)
			}
		}, http.StatusBadRequest},
		{"chunked", func(u *ingest.Upload) { u.ContentLength = -1 }, http.StatusLengthRequired},
		{"declared 500 MB", func(u *ingest.Upload) { u.ContentLength = 500 << 20 }, http.StatusRequestEntityTooLarge},
		{"declared empty", func(u *ingest.Upload) { u.ContentLength = 0 }, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newAuthHarness(t)
			up := upload([]byte("segment"), nil)
			up.Authorization = "Bearer " + credEdge1
			tt.edit(&up)
			var reads int
			countBody(&up, &reads)
			_, err := h.svc.Accept(t.Context(), up)
			refusal(t, err, tt.status)
			if reads != 0 {
				t.Errorf("Body called %d times for a refused upload", reads)
			}
		})
	}
}

// TestAcceptSourceOfAnotherEdge: a source bound to another edge is a 409
// that names its owner, whichever edge the credential is.
func TestAcceptSourceOfAnotherEdge(t *testing.T) {
	h := newAuthHarness(t)
	h.binder.err = fmt.Errorf("%w: source %q belongs to edge %q, not %q", sqlstore.ErrConflict, "cam", "edge-2", "edge-1")
	up := upload([]byte("segment"), nil)
	up.Authorization = "Bearer " + credEdge1
	_, err := h.svc.Accept(t.Context(), up)
	ie := refusal(t, err, http.StatusConflict, `belongs to edge "edge-2"`)
	if !strings.Contains(ie.Detail, "lmx source set cam --feeds") || !strings.Contains(ie.Detail, "--edge") {
		t.Errorf("detail %q does not say how to add the edge as a feed or move the source", ie.Detail)
	}
	if want := []bindCall{{"edge-1", "cam"}}; fmt.Sprint(h.binder.calls) != fmt.Sprint(want) {
		t.Errorf("bind calls %v, want %v (the credential's edge)", h.binder.calls, want)
	}
	if len(h.live.calls) != 0 || len(h.rec.calls) != 0 {
		t.Errorf("a refused segment went live (%d) or was recorded (%d)", len(h.live.calls), len(h.rec.calls))
	}
	if f := h.gate.failures(); len(f) != 0 {
		t.Errorf("gate failures %v: a conflict is not a failed authentication", f)
	}

	_, err = h.svc.Register(t.Context(), ingest.Registration{Source: "cam", Authorization: "Bearer " + credEdge1})
	refusal(t, err, http.StatusConflict, `belongs to edge "edge-2"`)
}

func TestAcceptBadHeaders(t *testing.T) {
	longID := strings.Repeat("r", 65)
	many := strings.TrimSuffix(strings.Repeat("r,", 65), ",")
	for _, tt := range []struct {
		name   string
		hdr    map[string]string
		header string // the header the message must name
	}{
		{"missing edge", map[string]string{broker.HeaderEdge: ""}, broker.HeaderEdge},
		{"bad edge name", map[string]string{broker.HeaderEdge: "edge/1"}, broker.HeaderEdge},
		{"long boot", map[string]string{broker.HeaderBoot: strings.Repeat("b", 65)}, broker.HeaderBoot},
		{"missing seq", map[string]string{broker.HeaderSeq: ""}, broker.HeaderSeq},
		{"negative seq", map[string]string{broker.HeaderSeq: "-1"}, broker.HeaderSeq},
		{"fractional seq", map[string]string{broker.HeaderSeq: "1.5"}, broker.HeaderSeq},
		{"seq over 64 bits", map[string]string{broker.HeaderSeq: "18446744073709551616"}, broker.HeaderSeq},
		{"missing duration", map[string]string{broker.HeaderDuration: ""}, broker.HeaderDuration},
		{"NaN duration", map[string]string{broker.HeaderDuration: "NaN"}, broker.HeaderDuration},
		{"negative duration", map[string]string{broker.HeaderDuration: "-2"}, broker.HeaderDuration},
		{"zero duration", map[string]string{broker.HeaderDuration: "0"}, broker.HeaderDuration},
		{"duration over an hour", map[string]string{broker.HeaderDuration: "3600.5"}, broker.HeaderDuration},
		{"infinite duration", map[string]string{broker.HeaderDuration: "Inf"}, broker.HeaderDuration},
		{"duration out of float range", map[string]string{broker.HeaderDuration: "1e400"}, broker.HeaderDuration},
		{"start not RFC 3339", map[string]string{broker.HeaderStart: "2025-03-04 05:06:07"}, broker.HeaderStart},
		{"start with month 13", map[string]string{broker.HeaderStart: "2025-13-04T05:06:07Z"}, broker.HeaderStart},
		// The store keeps times as int64 nanoseconds: a start it cannot
		// keep is the edge's mistake (400), not a storage failure (507)
		// the edge would retry for ever.
		{"start after 2262", map[string]string{broker.HeaderStart: "2300-01-01T00:00:00Z"}, broker.HeaderStart},
		{"start before 1678", map[string]string{broker.HeaderStart: "1600-01-01T00:00:00Z"}, broker.HeaderStart},
		{"recording id with a slash", map[string]string{broker.HeaderRecordings: "ok,a/b"}, broker.HeaderRecordings},
		{"recording id with a backslash", map[string]string{broker.HeaderRecordings: `a\b`}, broker.HeaderRecordings},
		{"recording id with a space", map[string]string{broker.HeaderRecordings: "a b"}, broker.HeaderRecordings},
		{"recording id too long", map[string]string{broker.HeaderRecordings: longID}, broker.HeaderRecordings},
		{"too many recordings", map[string]string{broker.HeaderRecordings: many}, broker.HeaderRecordings},
		{"purpose neither live nor record", map[string]string{broker.HeaderPurpose: "archive"}, broker.HeaderPurpose},
		{"purpose that only contains live", map[string]string{broker.HeaderPurpose: "nolive"}, broker.HeaderPurpose},
		{"purpose with a word of its own", map[string]string{broker.HeaderPurpose: "live,archive"}, broker.HeaderPurpose},
		{"record without recordings", map[string]string{broker.HeaderPurpose: "record"}, broker.HeaderPurpose},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.svc.Accept(t.Context(), upload([]byte("segment"), tt.hdr))
			refusal(t, err, http.StatusBadRequest, tt.header)
			if len(h.binder.calls) != 0 {
				t.Errorf("upload with bad headers reached the binder: %v", h.binder.calls)
			}
			h.wantDropped(t, "bad_request")
		})
	}
}

func TestParseHeaders(t *testing.T) {
	h := map[string]string{
		broker.HeaderEdge:          "edge-1",
		broker.HeaderBoot:          "boot-9",
		broker.HeaderSeq:           "18446744073709551615",
		broker.HeaderDuration:      "3600",
		broker.HeaderStart:         "2025-03-04T06:06:07.5+01:00",
		broker.HeaderDiscontinuity: "1",
		broker.HeaderPurpose:       "record",
		broker.HeaderRecordings:    " rec-a , ,rec-b,",
	}
	m, err := ingest.ParseHeaders(func(k string) string { return h[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := ingest.Meta{Edge: "edge-1", Boot: "boot-9", Seq: 1<<64 - 1, Duration: 3600, Discontinuity: true, Recordings: []string{"rec-a", "rec-b"}}
	if !m.Start.Equal(start) {
		t.Errorf("Start = %v, want %v", m.Start, start)
	}
	m.Start = time.Time{}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("Meta = %+v\nwant   %+v", m, want)
	}

	// No purpose means live; no start means none said.
	delete(h, broker.HeaderPurpose)
	delete(h, broker.HeaderStart)
	delete(h, broker.HeaderRecordings)
	m, err = ingest.ParseHeaders(func(k string) string { return h[k] })
	if err != nil || !m.Live || !m.Start.IsZero() || m.Recordings != nil {
		t.Errorf("without purpose: %+v, %v; want live, no start, no recordings", m, err)
	}

	// The zero time is an edge that does not know the start.
	h[broker.HeaderStart] = time.Time{}.Format(time.RFC3339Nano)
	if m, err = ingest.ParseHeaders(func(k string) string { return h[k] }); err != nil || !m.Start.IsZero() {
		t.Errorf("zero start: %+v, %v; want accepted as none", m, err)
	}
}

func TestAcceptBody(t *testing.T) {
	full := bytes.Repeat([]byte{0x47}, maxSeg)
	for _, tt := range []struct {
		name    string
		body    []byte
		length  int
		status  int // 0: accepted
		message string
		reason  string
	}{
		{"chunked", []byte("segment"), -1, http.StatusLengthRequired, "Content-Length", "no_length"},
		{"exactly the limit", full, maxSeg, 0, "", ""},
		{"one byte over the limit", append(full, 0x47), maxSeg + 1, http.StatusRequestEntityTooLarge, "1001 bytes", "too_large"},
		{"declared over the limit", []byte("segment"), maxSeg + 1, http.StatusRequestEntityTooLarge, "over the", "too_large"},
		{"empty", nil, 0, http.StatusBadRequest, "empty", "empty"},
		{"declared but nothing came", nil, 7, http.StatusBadRequest, "empty", "empty"},
		{"shorter than declared", []byte("segmen"), 7, http.StatusBadRequest, "does not match", "short_body"},
		{"longer than declared", []byte("segment!"), 7, http.StatusBadRequest, "does not match", "short_body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			up := upload(tt.body, nil)
			up.ContentLength = tt.length
			reply, err := h.svc.Accept(t.Context(), up)
			if tt.status == 0 {
				if err != nil || !reply.Live {
					t.Fatalf("Accept = %+v, %v; want live", reply, err)
				}
				if len(h.live.calls) != 1 || !bytes.Equal(h.live.calls[0].data, tt.body) {
					t.Fatalf("live appends %d, want the body once", len(h.live.calls))
				}
				h.wantDropped(t, "")
				return
			}
			refusal(t, err, tt.status, tt.message)
			if len(h.live.calls) != 0 || len(h.binder.calls) != 0 {
				t.Errorf("refused body reached the binder (%d) or the live windows (%d)", len(h.binder.calls), len(h.live.calls))
			}
			h.wantDropped(t, tt.reason)
		})
	}
}

func TestAcceptSource(t *testing.T) {
	t.Run("bad name", func(t *testing.T) {
		h := newHarness(t)
		up := upload([]byte("segment"), nil)
		up.Source = "../cam"
		_, err := h.svc.Accept(t.Context(), up)
		refusal(t, err, http.StatusBadRequest, "source name")
		h.wantDropped(t, "bad_request")
	})
	t.Run("unknown", func(t *testing.T) {
		h := newHarness(t)
		up := upload([]byte("segment"), nil)
		up.Source = "nope"
		_, err := h.svc.Accept(t.Context(), up)
		ie := refusal(t, err, http.StatusNotFound, `"nope"`, "not registered")
		if !strings.Contains(ie.Detail, "lmx source add nope") {
			t.Errorf("detail %q does not say how to add it", ie.Detail)
		}
		if want := []bindCall{{"edge-1", "nope"}}; fmt.Sprint(h.binder.calls) != fmt.Sprint(want) {
			t.Errorf("bind calls %v, want %v", h.binder.calls, want)
		}
		h.wantDropped(t, "unknown_source")
	})
	t.Run("store fails", func(t *testing.T) {
		h := newHarness(t)
		cause := errors.New("disk on fire")
		h.binder.err = cause
		_, err := h.svc.Accept(t.Context(), upload([]byte("segment"), nil))
		refusal(t, err, http.StatusInternalServerError, "disk on fire")
		if !errors.Is(err, cause) {
			t.Errorf("err %v does not wrap its cause", err)
		}
		h.wantDropped(t, "")
	})
	t.Run("streaming off, no recordings", func(t *testing.T) {
		h := newHarness(t)
		up := upload([]byte("segment"), nil)
		up.Source = "cam-off"
		_, err := h.svc.Accept(t.Context(), up)
		refusal(t, err, http.StatusConflict, "streaming is off", "cam-off")
		if len(h.live.calls) != 0 || len(h.rec.calls) != 0 {
			t.Errorf("live appends %d, records %d: want none", len(h.live.calls), len(h.rec.calls))
		}
		h.wantDropped(t, "not_streaming")
	})
}

// sameSegment compares segments, their times by instant.
func sameSegment(a, b recording.Segment) bool {
	if !a.Start.Equal(b.Start) || !a.Arrived.Equal(b.Arrived) {
		return false
	}
	a.Start, a.Arrived = b.Start, b.Arrived
	return a == b
}

func TestAcceptRecordings(t *testing.T) {
	body := []byte("recorded segment")
	hdr := map[string]string{
		broker.HeaderPurpose:       "live,record",
		broker.HeaderRecordings:    "rec-a,rec-gone",
		broker.HeaderDiscontinuity: "1",
	}
	wantSeg := recording.Segment{
		SourceID: "id-off", Edge: "edge-1", Boot: "boot-9", EdgeSeq: 41,
		Duration: 2.5, Start: start, Discontinuity: true, Arrived: arrived,
	}

	t.Run("streaming off: recorded, not live", func(t *testing.T) {
		h := newHarness(t)
		h.rec.rejected = []string{"rec-gone"}
		up := upload(body, hdr)
		up.Source = "cam-off"
		reply, err := h.svc.Accept(t.Context(), up)
		if err != nil {
			t.Fatal(err)
		}
		if reply.Live || fmt.Sprint(reply.Acked) != "[rec-a]" || fmt.Sprint(reply.Rejected) != "[rec-gone]" {
			t.Errorf("reply %+v, want not live, acked [rec-a], rejected [rec-gone]", reply)
		}
		if len(h.rec.calls) != 1 {
			t.Fatalf("Record called %d times, want once", len(h.rec.calls))
		}
		c := h.rec.calls[0]
		if !sameSegment(c.seg, wantSeg) {
			t.Errorf("recorded segment\n%+v\nwant\n%+v", c.seg, wantSeg)
		}
		if fmt.Sprint(c.ids) != "[rec-a rec-gone]" || !bytes.Equal(c.data, body) {
			t.Errorf("Record ids %v data %q", c.ids, c.data)
		}
		if len(h.live.calls) != 0 {
			t.Errorf("a source with streaming off got %d live appends", len(h.live.calls))
		}
		if got := testutil.ToFloat64(h.in.WithLabelValues("cam-off")); got != 1 {
			t.Errorf("segments in = %v, want 1", got)
		}
		if got := testutil.ToFloat64(h.bytesIn.WithLabelValues("cam-off")); got != float64(len(body)) {
			t.Errorf("bytes in = %v, want %d", got, len(body))
		}
		h.wantDropped(t, "")
	})

	t.Run("no start: it ended when it arrived", func(t *testing.T) {
		h := newHarness(t)
		h2 := map[string]string{broker.HeaderStart: ""}
		for k, v := range hdr {
			h2[k] = v
		}
		up := upload(body, h2)
		up.Source = "cam-off"
		if _, err := h.svc.Accept(t.Context(), up); err != nil {
			t.Fatal(err)
		}
		if got, want := h.rec.calls[0].seg.Start, arrived.Add(-2500*time.Millisecond); !got.Equal(want) {
			t.Errorf("start %v, want %v (arrival less the duration)", got, want)
		}
	})

	t.Run("streaming on: recorded, then live", func(t *testing.T) {
		h := newHarness(t)
		reply, err := h.svc.Accept(t.Context(), upload(body, hdr))
		if err != nil {
			t.Fatal(err)
		}
		if !reply.Live || len(h.rec.calls) != 1 || len(h.live.calls) != 1 {
			t.Errorf("reply %+v, records %d, live appends %d; want live, one of each", reply, len(h.rec.calls), len(h.live.calls))
		}
	})

	t.Run("spool fails", func(t *testing.T) {
		h := newHarness(t)
		cause := errors.New("no space left on device")
		h.rec.err = cause
		_, err := h.svc.Accept(t.Context(), upload(body, hdr))
		ie := refusal(t, err, http.StatusInsufficientStorage, "no space left on device")
		if !errors.Is(err, cause) || ie.Detail == "" {
			t.Errorf("err %v (detail %q): want its cause and a detail", err, ie.Detail)
		}
		if len(h.live.calls) != 0 {
			t.Errorf("a segment that could not be spooled went live")
		}
		h.wantDropped(t, "spool_failed")
	})
}

func TestAcceptLive(t *testing.T) {
	body := []byte("live segment")

	t.Run("happy path", func(t *testing.T) {
		h := newAuthHarness(t)
		up := upload(body, map[string]string{broker.HeaderDiscontinuity: "1"})
		up.Authorization = "Bearer " + credEdge1
		reply, err := h.svc.Accept(t.Context(), up)
		if err != nil {
			t.Fatal(err)
		}
		if !reply.Live || reply.Acked != nil || reply.Rejected != nil {
			t.Errorf("reply %+v, want live only", reply)
		}
		if len(h.live.calls) != 1 {
			t.Fatalf("live appends %d, want 1", len(h.live.calls))
		}
		c := h.live.calls[0]
		want := live.Arrival{Edge: "edge-1", Boot: "boot-9", EdgeSeq: 41, Duration: 2.5, Start: start, Discontinuity: true}
		got := c.arrival
		if !got.Start.Equal(want.Start) {
			t.Errorf("arrival start %v, want %v", got.Start, want.Start)
		}
		got.Start = want.Start
		if c.id != "id-cam" || c.name != "cam" || c.segmentLen != 4 || got != want || !bytes.Equal(c.data, body) {
			t.Errorf("Append(%q, %q, %d, %+v, %q)\nwant (id-cam, cam, 4, %+v, %q)", c.id, c.name, c.segmentLen, c.arrival, c.data, want, body)
		}
		if len(h.rec.calls) != 0 {
			t.Errorf("live-only upload was recorded")
		}
		if got := testutil.ToFloat64(h.in.WithLabelValues("cam")); got != 1 {
			t.Errorf("segments in = %v, want 1", got)
		}
		h.wantDropped(t, "")
		if len(h.events.Events()) != 0 {
			t.Errorf("events %v, want none", eventstest.Kinds(h.events.Events()))
		}
	})

	t.Run("live memory full", func(t *testing.T) {
		h := newHarness(t)
		h.live.err = live.ErrMemoryFull
		reply, err := h.svc.Accept(t.Context(), upload(body, nil))
		ie := refusal(t, err, http.StatusInsufficientStorage, "live playback")
		if !errors.Is(err, live.ErrMemoryFull) || !strings.Contains(ie.Detail, "--live-memory") {
			t.Errorf("err %v, detail %q: want ErrMemoryFull and advice on --live-memory", err, ie.Detail)
		}
		if reply.Live {
			t.Errorf("refused segment reported live")
		}
		h.wantDropped(t, "live_refused")
		if len(h.events.Events()) != 1 || h.events.Events()[0].Kind != broker.EventSegmentDropped {
			t.Fatalf("events %v, want one %s", eventstest.Kinds(h.events.Events()), broker.EventSegmentDropped)
		}
		if ev := h.events.Events()[0].Event; ev.Edge != "edge-1" || ev.Source != "cam" || !strings.Contains(ev.Detail, live.ErrMemoryFull.Error()) {
			t.Errorf("dropped event %+v", ev)
		}
	})

	t.Run("other live failure", func(t *testing.T) {
		h := newHarness(t)
		h.live.err = errors.New("memfd_create: too many open files")
		_, err := h.svc.Accept(t.Context(), upload(body, nil))
		ie := refusal(t, err, http.StatusInsufficientStorage, "too many open files")
		if strings.Contains(ie.Detail, "--live-memory") {
			t.Errorf("detail %q blames the memory limit", ie.Detail)
		}
		h.wantDropped(t, "live_refused")
	})

	t.Run("streaming turned off on the way", func(t *testing.T) {
		h := newHarness(t)
		h.live.err = live.ErrStreamingOff
		reply, err := h.svc.Accept(t.Context(), upload(body, nil))
		if err != nil {
			t.Fatalf("Accept: %v, want success", err)
		}
		if reply.Live {
			t.Errorf("reply %+v, want Live false", reply)
		}
		h.wantDropped(t, "")
		if len(h.events.Events()) != 0 {
			t.Errorf("events %v, want none", eventstest.Kinds(h.events.Events()))
		}
	})

	t.Run("record-only purpose stays out of the live window", func(t *testing.T) {
		h := newHarness(t)
		reply, err := h.svc.Accept(t.Context(), upload(body, map[string]string{broker.HeaderPurpose: "record", broker.HeaderRecordings: "rec-a"}))
		if err != nil || reply.Live || len(h.live.calls) != 0 || len(h.rec.calls) != 1 {
			t.Errorf("reply %+v, %v; live appends %d, records %d: want recorded only", reply, err, len(h.live.calls), len(h.rec.calls))
		}
	})
}

func TestRegister(t *testing.T) {
	for _, tt := range []struct {
		name       string
		auth       bool // edge credentials on
		authz      string
		source     string
		edge       string // the Lmx-Edge header
		status     int    // 0: registered
		message    string
		failed     string // the reason counted by the gate
		registered string // the edge it is bound to
	}{
		{"auth off, known", false, "", "cam", "edge-2", 0, "", "", "edge-2"},
		{"auth off, credential ignored", false, "Bearer whatever", "cam", "edge-2", 0, "", "", "edge-2"},
		{"auth off, bad edge name", false, "", "cam", "", http.StatusBadRequest, broker.HeaderEdge, "", ""},
		{"auth off, bad source name", false, "", "a b", "edge-2", http.StatusBadRequest, "a b", "", ""},
		{"auth off, unknown source", false, "", "nope", "edge-2", http.StatusNotFound, "not registered", "", ""},
		{"credential, header agrees", true, "Bearer " + credEdge2, "cam", "edge-2", 0, "", "", "edge-2"},
		{"credential, no header", true, "Bearer " + credEdge2, "cam", "", 0, "", "", "edge-2"},
		{"credential, header names another edge", true, "Bearer " + credEdge2, "cam", "edge-1", http.StatusForbidden, `credential is edge "edge-2"`, "", ""},
		{"no credential", true, "", "cam", "edge-2", http.StatusUnauthorized, "no credential", "", ""},
		{"unknown credential", true, "Bearer lmx_edge_nope", "cam", "edge-2", http.StatusUnauthorized, "not known", "credential", ""},
		{"malformed header", true, "Token x", "cam", "edge-2", http.StatusUnauthorized, "Bearer CREDENTIAL", "malformed", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.auth {
				h = newAuthHarness(t)
			}
			addr := netip.MustParseAddr("2001:db8::9")
			src, err := h.svc.Register(t.Context(), ingest.Registration{Source: tt.source, Edge: tt.edge, Authorization: tt.authz, Addr: addr})
			var wantFailed []gateFailure
			if tt.failed != "" {
				wantFailed = []gateFailure{{addr, tt.failed}}
			}
			if got := h.gate.failures(); fmt.Sprint(got) != fmt.Sprint(wantFailed) {
				t.Errorf("gate failures %v, want %v", got, wantFailed)
			}
			if tt.status != 0 {
				refusal(t, err, tt.status, tt.message)
				if tt.status != http.StatusNotFound && len(h.binder.calls) != 0 {
					t.Errorf("refused registration reached the binder")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := api.Source{ID: "id-cam", Name: "cam", Edge: tt.registered, Description: "rendered"}
			if !reflect.DeepEqual(src, want) {
				t.Errorf("Register = %+v, want the view of the bound source %+v", src, want)
			}
			if want := []bindCall{{tt.registered, "cam"}}; fmt.Sprint(h.binder.calls) != fmt.Sprint(want) {
				t.Errorf("bind calls %v, want %v", h.binder.calls, want)
			}
		})
	}

	t.Run("blocked", func(t *testing.T) {
		h := newAuthHarness(t)
		h.gate.retry = 3 * time.Second
		_, err := h.svc.Register(t.Context(), ingest.Registration{Source: "cam", Authorization: "Bearer " + credEdge1})
		if ie := refusal(t, err, http.StatusTooManyRequests, "too many failed authentications"); ie.RetryAfter != 3*time.Second {
			t.Errorf("RetryAfter %v, want 3s", ie.RetryAfter)
		}
		if len(h.binder.calls) != 0 {
			t.Errorf("a blocked registration reached the binder")
		}
	})
}
