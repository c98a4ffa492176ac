package edged

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/syncbuf"
)

// removingIngest answers registrations: known until removed is set, then
// the control node's 404 for a removed name.
type removingIngest struct {
	removed   atomic.Bool
	registers atomic.Int32
}

func (f *removingIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/register") {
		w.WriteHeader(http.StatusOK)
		return
	}
	f.registers.Add(1)
	if f.removed.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"success":false,"error":{"code":404,"message":"source \"cam1\" was removed 3s ago by ops (at 2025-03-04T05:06:07Z) and is not registered again by a push: `+"`lmx source add cam1`"+` brings it back","detail":"or stop the push"}}`)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// TestAdmitRemovedSource: a registered name the desired state lists is
// taken without asking; once it leaves the desired state the edge asks
// again, and the control node's refusal (removed, and how to bring it
// back) is what ffmpeg gets and what the edge logs, once; a name added
// again is taken again.
func TestAdmitRemovedSource(t *testing.T) {
	fake := &removingIngest{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	e, _ := testEdge(t, srv.URL)
	var logs syncbuf.Buffer
	e.logger = slog.New(slog.NewTextHandler(&logs, nil))
	s := &sourceState{name: "cam1"}
	e.sources["cam1"] = s

	if code, msg := e.admit(s); code != 0 {
		t.Fatalf("first push: %d %s", code, msg)
	}
	e.mu.Lock()
	e.desired = broker.Desired{Sources: map[string]broker.DesiredSource{"cam1": {Stream: true}}}
	s.recheckAt = time.Time{}
	e.mu.Unlock()
	for range 3 {
		if code, _ := e.admit(s); code != 0 {
			t.Fatal("a registered name in the desired state was refused")
		}
	}
	if n := fake.registers.Load(); n != 1 {
		t.Errorf("%d registrations, want 1: a name the desired state lists is not asked about again", n)
	}

	// Removed on the control node: its desired state no longer lists it.
	fake.removed.Store(true)
	e.mu.Lock()
	e.desired = broker.Desired{Sources: map[string]broker.DesiredSource{}}
	e.mu.Unlock()
	code, msg := e.admit(s)
	if code != http.StatusNotFound || !strings.Contains(msg, `"cam1" was removed`) || !strings.Contains(msg, "lmx source add cam1") {
		t.Fatalf("push of a removed name: %d %q", code, msg)
	}
	for range 3 {
		if c, m := e.admit(s); c != http.StatusNotFound || m != msg {
			t.Errorf("while refused: %d %q", c, m)
		}
	}
	if n := fake.registers.Load(); n != 2 {
		t.Errorf("%d registrations, want 2: a refusal holds for a while", n)
	}
	if n := strings.Count(logs.String(), "push refused"); n != 1 || !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "lmx source add cam1") {
		t.Errorf("refusal logged %d times, want once at warn with the reason:\n%s", n, logs.String())
	}

	// Added again.
	fake.removed.Store(false)
	e.mu.Lock()
	s.rejectedUntil = time.Time{}
	e.mu.Unlock()
	if code, msg := e.admit(s); code != 0 {
		t.Errorf("after lmx source add: %d %s", code, msg)
	}
	if !strings.Contains(logs.String(), "push taken again") {
		t.Errorf("no log of the name taken again:\n%s", logs.String())
	}
}
