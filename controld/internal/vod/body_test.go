package vod_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/controld/internal/vod"
	"github.com/lmx-video/lmx/sqlstore"
)

// edgeCreds authenticates edge credentials from a map: credential → edge.
type edgeCreds map[string]string

func (e edgeCreds) AuthenticateEdge(credential string) (string, error) {
	if credential == "" {
		return "", fmt.Errorf("%w: this control node wants the edge's credential", auth.ErrNoCredential)
	}
	if edge, ok := e[credential]; ok {
		return edge, nil
	}
	return "", fmt.Errorf("%w: the edge credential is not known to this control node", auth.ErrBadCredential)
}

// binder binds the node's fake sources to whichever edge pushes them.
type binder struct {
	srcs  *fakeSources
	calls atomic.Int64
}

func (b *binder) BindSource(ctx context.Context, edge, name string) (sqlstore.Source, error) {
	b.calls.Add(1)
	src, err := b.srcs.GetSource(ctx, name)
	src.Edge = edge
	return src, err
}

type ackAll struct{}

func (ackAll) Record(_ context.Context, _ recording.Segment, ids []string, _ []byte) ([]string, []string, error) {
	return ids, nil, nil
}

type plainView struct{}

func (plainView) Source(_ context.Context, src sqlstore.Source) api.Source {
	return api.Source{ID: src.ID, Name: src.Name, Edge: src.Edge}
}

// countingIngest is the real ingest service, counting the body reads of
// the uploads it is given.
type countingIngest struct {
	svc   *ingest.Service
	reads *atomic.Int64
}

func (c countingIngest) Accept(ctx context.Context, up ingest.Upload) (broker.IngestReply, error) {
	body := up.Body
	up.Body = func() []byte { c.reads.Add(1); return body() }
	return c.svc.Accept(ctx, up)
}

func (c countingIngest) Register(ctx context.Context, r ingest.Registration) (api.Source, error) {
	return c.svc.Register(ctx, r)
}

const (
	edgeCred = "lmx_edge_cred_one"
	maxSeg   = 1 << 20
)

// edgeNode is a node with auth on whose uploads go to the real ingest
// service, edges authenticated by credential.
type edgeNode struct {
	*node
	gate   *fakeGate // the ingest gate, of vod and of ingest
	binder *binder
	reads  atomic.Int64 // calls of an upload's Body
}

func startEdgeNode(t *testing.T) *edgeNode {
	t.Helper()
	e := &edgeNode{gate: &fakeGate{}}
	access := &fakeAccess{now: time.Now, joins: map[string]string{"lmx_join_good": "edge-1"}}
	guard := vod.Guard{Access: access, Playback: &fakeGate{}, Ingest: e.gate}
	e.node = startWithIngest(t, vod.Config{MaxBodyBytes: 2*maxSeg + 1<<20}, guard, func(n *node) vod.Ingest {
		e.binder = &binder{srcs: n.sources}
		counter := func(name string, label string) *prometheus.CounterVec {
			return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name}, []string{label})
		}
		svc := ingest.New(ingest.Config{Edges: edgeCreds{edgeCred: "edge-1"}, Gate: e.gate, MaxSegmentBytes: maxSeg},
			e.binder, n.live, ackAll{}, &eventstest.Recorder{}, plainView{},
			ingest.Series{In: counter("in", "source"), BytesIn: counter("bytes_in", "source"), Dropped: counter("dropped", "reason")}, logger())
		return countingIngest{svc: svc, reads: &e.reads}
	})
	return e
}

// rawAnswer is what came back on a raw connection.
type rawAnswer struct {
	*http.Response
	body   []byte
	took   time.Duration
	closed bool // the server closed the connection after answering
}

// sendHead writes a request's head and the first sent bytes of its body on
// a raw connection, keeps the rest of the body, and reads the answer.
func (e *edgeNode) sendHead(t *testing.T, head []string, sent int) rawAnswer {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Without the answer within the deadline, the server is reading (or
	// waiting for) the body.
	c.SetDeadline(time.Now().Add(5 * time.Second))
	began := time.Now()
	if _, err := io.WriteString(c, strings.Join(head, "\r\n")+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(bytes.Repeat([]byte{0x47}, sent)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer while the body is still on its way: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the answer's body: %v", err)
	}
	a := rawAnswer{Response: resp, body: body, took: time.Since(began)}
	// Then the server lets go of the connection rather than read on: the
	// read ends (at EOF, or reset for the body left unread in the server's
	// socket) instead of waiting out the deadline.
	var one [1]byte
	_, err = br.Read(one[:])
	a.closed = err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
	return a
}

// envelope checks a raw answer is a failure of code naming every part.
func (a rawAnswer) envelope(t *testing.T, code int, parts ...string) {
	t.Helper()
	if a.StatusCode != code {
		t.Fatalf("answer %d, want %d\n%s", a.StatusCode, code, a.body)
	}
	var env api.Envelope
	if err := json.Unmarshal(a.body, &env); err != nil || env.Error == nil || env.Error.Code != code {
		t.Fatalf("answer is not a %d envelope: %v\n%s", code, err, a.body)
	}
	for _, p := range parts {
		if !strings.Contains(env.Error.Message, p) {
			t.Errorf("message %q does not mention %q", env.Error.Message, p)
		}
	}
}

// huge is the declared length of the bodies that never come: 500 MB.
const huge = 500 << 20

// sentOfHuge is what is sent of them. fasthttp reads the first 8 KiB of a
// body with its headers before the handler runs; beyond that nothing is
// read before the credential is checked.
const sentOfHuge = 32 << 10

func uploadHead(path, authz string, length int) []string {
	h := []string{
		"PUT " + path + " HTTP/1.1", "Host: controld", "Content-Length: " + strconv.Itoa(length),
		broker.HeaderEdge + ": edge-1", broker.HeaderSeq + ": 1", broker.HeaderDuration + ": 2",
	}
	if authz != "" {
		h = append(h, "Authorization: "+authz)
	}
	return h
}

// TestCredentialBeforeBody: an edge request with no or a bad credential is
// refused on its headers, while its client still holds nearly all of the
// 500 MB it declared, and the server does not read on.
func TestCredentialBeforeBody(t *testing.T) {
	for _, tt := range []struct {
		name    string
		head    []string
		code    int
		message string
		failed  string // counted by the gate
	}{
		{"upload without a credential", uploadHead(broker.IngestPath("cam"), "", huge), http.StatusUnauthorized, "no credential", ""},
		{"upload with a bad credential", uploadHead(broker.IngestPath("cam"), "Bearer lmx_edge_guess", huge), http.StatusUnauthorized, "not known", "credential"},
		{"upload with a malformed header", uploadHead(broker.IngestPath("cam"), "Basic eDp5", huge), http.StatusUnauthorized, "Bearer CREDENTIAL", "malformed"},
		{"upload with a good credential, too long", uploadHead(broker.IngestPath("cam"), "Bearer "+edgeCred, huge), http.StatusRequestEntityTooLarge, "over the", ""},
		{"register with a bad credential", []string{
			"POST " + broker.IngestPath("cam") + "/register HTTP/1.1", "Host: controld", "Content-Length: " + strconv.Itoa(huge),
			"Authorization: Bearer lmx_edge_guess",
		}, http.StatusUnauthorized, "not known", "credential"},
		{"join with a bad secret", []string{
			"POST " + broker.JoinPath + " HTTP/1.1", "Host: controld", "Content-Length: " + strconv.Itoa(huge),
			"Authorization: Bearer lmx_join_guess",
		}, http.StatusUnauthorized, "not known", "join"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := startEdgeNode(t)
			a := e.sendHead(t, tt.head, sentOfHuge)
			a.envelope(t, tt.code, tt.message)
			if !a.closed {
				t.Errorf("the server kept the connection, so it would read the rest of the body")
			}
			if a.took > 2*time.Second {
				t.Errorf("answered after %v", a.took)
			}
			if n := e.reads.Load(); n != 0 {
				t.Errorf("the upload's body was read %d times", n)
			}
			if n := e.binder.calls.Load(); n != 0 {
				t.Errorf("a refused request reached the binder %d times", n)
			}
			var want []string
			if tt.failed != "" {
				want = []string{tt.failed}
			}
			if got := e.gate.failures(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("gate failures %v, want %v", got, want)
			}
		})
	}
}

func TestCredentialBeforeBodyBlocked(t *testing.T) {
	e := startEdgeNode(t)
	e.gate.block(200 * time.Millisecond)
	a := e.sendHead(t, uploadHead(broker.IngestPath("cam"), "Bearer "+edgeCred, huge), sentOfHuge)
	a.envelope(t, http.StatusTooManyRequests, "too many failed authentications")
	// Less than a second to wait is told as 1, not 0 (come back at once).
	if ra := a.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	if e.reads.Load() != 0 {
		t.Errorf("a blocked upload's body was read")
	}
	e.gate.block(42 * time.Second)
	a = e.sendHead(t, []string{"POST " + broker.JoinPath + " HTTP/1.1", "Host: controld", "Content-Length: " + strconv.Itoa(huge), "Authorization: Bearer lmx_join_good"}, sentOfHuge)
	if a.envelope(t, http.StatusTooManyRequests); a.Header.Get("Retry-After") != "42" {
		t.Errorf("join: Retry-After %q, want 42", a.Header.Get("Retry-After"))
	}
}

// TestAuthenticatedUploadOnTheWire: the same path takes an upload with its
// credential, the body read once, the edge the credential's.
func TestAuthenticatedUploadOnTheWire(t *testing.T) {
	e := startEdgeNode(t)
	body := bytes.Repeat([]byte{0x47, 1, 2, 3}, 50_000) // well past fasthttp's first 8 KiB
	hdr := map[string]string{"Authorization": "Bearer " + edgeCred, broker.HeaderSeq: "1", broker.HeaderDuration: "2"}
	e.do(t, http.MethodPut, broker.IngestPath("cam"), bytes.NewReader(body), hdr).wantStatus(t, http.StatusCreated)
	if n := e.reads.Load(); n != 1 {
		t.Errorf("body read %d times, want once", n)
	}
	ls, ok := e.live.Get("cam")
	if !ok {
		t.Fatal("the upload did not go live")
	}
	if !bytes.Contains(ls.Playlist(), []byte(".ts")) {
		t.Errorf("live playlist without the segment:\n%s", ls.Playlist())
	}
	// Chunked, within the bound: read and refused by ingest for want of a
	// length, as before.
	req, _ := http.NewRequest(http.MethodPut, e.base+broker.IngestPath("cam"), io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	e.send(t, req).envelope(t, http.StatusLengthRequired, "Content-Length")
	if f := e.gate.failures(); len(f) != 0 {
		t.Errorf("gate failures %v for a good credential", f)
	}
}
