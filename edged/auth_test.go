package edged

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/internal/syncbuf"
)

// refusingIngest is a control node's ingest that refuses the edge's
// credential (401) while refuse is set, and otherwise is a fakeIngest that
// wants the credential cred.
type refusingIngest struct {
	fakeIngest
	cred    string
	refuse  atomic.Bool
	refused atomic.Int32
}

func (f *refusingIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.refuse.Load() || r.Header.Get("Authorization") != "Bearer "+f.cred {
		_, _ = io.Copy(io.Discard, r.Body)
		f.refused.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"success":false,"error":{"code":401,"message":"edge credential revoked"}}`)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/register") {
		w.WriteHeader(http.StatusOK)
		return
	}
	f.fakeIngest.ServeHTTP(w, r)
}

// authEdge is testEdge uploading to ingest with credential cred, logging
// to logs.
func authEdge(t *testing.T, ingest, cred string, logs io.Writer) (*Edge, context.CancelFunc) {
	t.Helper()
	e, stop := testEdge(t, ingest)
	e.logger = slog.New(slog.NewTextHandler(logs, nil))
	e.up = newUploader(ingest, "edge-t", cred, "boot1", nil, e.logger)
	return e, stop
}

const (
	refusedLog = "control node refused this edge's credential (revoked?); keeping segments and retrying"
	resumedLog = "control node accepts this edge's credential again; uploads resumed"
)

// checkAuthLogs checks that the refusal and the recovery were each logged
// once, at warn and info, and that the credential was not.
func checkAuthLogs(t *testing.T, logs, cred string) {
	t.Helper()
	if n := strings.Count(logs, refusedLog); n != 1 {
		t.Errorf("refusal logged %d times, want once:\n%s", n, logs)
	}
	if n := strings.Count(logs, resumedLog); n != 1 {
		t.Errorf("recovery logged %d times, want once:\n%s", n, logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		switch {
		case strings.Contains(line, refusedLog) && !strings.Contains(line, "level=WARN"):
			t.Errorf("refusal not at warn: %s", line)
		case strings.Contains(line, resumedLog) && !strings.Contains(line, "level=INFO"):
			t.Errorf("recovery not at info: %s", line)
		}
	}
	if strings.Contains(logs, cred) {
		t.Errorf("the credential is in the log:\n%s", logs)
	}
}

// recordThrough records edge sequence 1…10 of a source through a control
// node that refuses the credential for the first few uploads when refuse
// is set, and returns the uploads it took, in order.
func recordThrough(t *testing.T, refuse bool) ([]ingestCall, *refusingIngest, *sourceState, string) {
	cred := newSecret(t, secret.KindEdge).String()
	fake := &refusingIngest{cred: cred}
	fake.refuse.Store(refuse)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var logs syncbuf.Buffer
	e, stop := authEdge(t, srv.URL, cred, &logs)
	src := &sourceState{name: "cam"}
	e.sources[src.name] = src
	t0 := time.Now().Add(-time.Minute)
	e.ring.setRecordings(src.name, []recWindow{{ID: "rec1", Since: t0}})
	addSegments(e, src, t0, 1, 5, map[uint64]bool{1: true})
	e.mu.Lock()
	e.startRecorder(src)
	e.mu.Unlock()
	if refuse {
		waitFor(t, "three refused uploads", func() bool { return fake.refused.Load() >= 3 })
	} else {
		waitFor(t, "the first segments acked", func() bool { return e.ring.pendingCount(src.name) == 0 })
	}
	// More media comes in (while the edge is refused).
	addSegments(e, src, t0, 6, 10, nil)
	e.mu.Lock()
	e.startRecorder(src) // wakes the loop, as a push does
	e.mu.Unlock()
	if refuse {
		if n := len(fake.snapshot()); n != 0 {
			t.Fatalf("%d uploads taken while refusing", n)
		}
		fake.refuse.Store(false)
	}
	waitFor(t, "every recorded segment acked", func() bool { return e.ring.pendingCount(src.name) == 0 })
	stop()
	return fake.snapshot(), fake, src, logs.String()
}

// TestRecordingSurvivesRefusedCredential: while the control node refuses
// the edge's credential, recorded segments stay pending and are retried;
// once it takes it again, every segment arrives, once, in order, exactly as
// without the refusal.
func TestRecordingSurvivesRefusedCredential(t *testing.T) {
	want, _, _, _ := recordThrough(t, false)
	got, fake, src, logs := recordThrough(t, true)
	if len(want) != 10 {
		t.Fatalf("without refusals: %d uploads, want 10: %+v", len(want), want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("uploads after the refusal\n%+v\nwant, as without it,\n%+v", got, want)
	}
	if src.dropped != 0 {
		t.Errorf("%d segments dropped", src.dropped)
	}
	t.Logf("%d uploads refused, then %d taken", fake.refused.Load(), len(got))
	checkAuthLogs(t, logs, fake.cred)
}

// TestLiveResumesAfterRefusedCredential: live streaming retries through a
// refused credential, drops nothing, and goes on once it is taken again.
func TestLiveResumesAfterRefusedCredential(t *testing.T) {
	cred := newSecret(t, secret.KindEdge).String()
	fake := &refusingIngest{cred: cred}
	fake.refuse.Store(true)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var logs syncbuf.Buffer
	e, stop := authEdge(t, srv.URL, cred, &logs)
	src := &sourceState{name: "cam"}
	e.sources[src.name] = src
	t0 := time.Now().Add(-time.Minute)
	addSegments(e, src, t0, 1, 3, nil)
	e.mu.Lock()
	e.startStream(src)
	e.mu.Unlock()
	waitFor(t, "two refused uploads", func() bool { return fake.refused.Load() >= 2 })
	// One more while refused: not enough for live to skip ahead.
	addSegments(e, src, t0, 4, 4, nil)
	fake.refuse.Store(false)
	waitCalls(t, &fake.fakeIngest, "live up to edge sequence 4", func(cs []ingestCall) bool {
		return len(cs) > 0 && cs[len(cs)-1].seq == 4
	})
	addSegments(e, src, t0, 5, 6, nil)
	waitCalls(t, &fake.fakeIngest, "live edge sequence 6", func(cs []ingestCall) bool {
		return len(cs) > 0 && cs[len(cs)-1].seq == 6
	})
	stop()
	var seqs []uint64
	for _, c := range fake.snapshot() {
		seqs = append(seqs, c.seq)
	}
	if want := []uint64{1, 2, 3, 4, 5, 6}; !reflect.DeepEqual(seqs, want) {
		t.Errorf("live uploads %v, want %v", seqs, want)
	}
	if src.dropped != 0 {
		t.Errorf("%d segments dropped", src.dropped)
	}
	checkAuthLogs(t, logs.String(), cred)
}

// TestRegisterRefusedCredential: a refused credential on register is
// errAuth, not "unknown source", and is logged once.
func TestRegisterRefusedCredential(t *testing.T) {
	cred := newSecret(t, secret.KindEdge).String()
	fake := &refusingIngest{cred: cred}
	fake.refuse.Store(true)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var logs syncbuf.Buffer
	up := newUploader(srv.URL, "edge-t", cred, "boot1", nil, slog.New(slog.NewTextHandler(&logs, nil)))
	for range 3 {
		known, _, _, err := up.register(context.Background(), "cam")
		if !errors.Is(err, errAuth) || errors.Is(err, errRejected) || known {
			t.Fatalf("register while refused: %v, %v; want errAuth", known, err)
		}
	}
	fake.refuse.Store(false)
	if known, _, _, err := up.register(context.Background(), "cam"); err != nil || !known {
		t.Fatalf("register once taken again: %v, %v", known, err)
	}
	checkAuthLogs(t, logs.String(), cred)
}
