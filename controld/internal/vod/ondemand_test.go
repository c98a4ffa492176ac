package vod_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/vod"
	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/sqlstore"
)

// fakeDemand is the on-demand component as the listener sees it: Wake
// records the call and, like an edge told to stream, appends deliver
// segments to the live window after delay.
type fakeDemand struct {
	reg     *live.Registry
	delay   time.Duration
	deliver int
	err     error

	mu      sync.Mutex
	wakes   []string
	touches []string
}

func (f *fakeDemand) Touch(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.touches = append(f.touches, id)
}

func (f *fakeDemand) Wake(_ context.Context, src sqlstore.Source) (bool, error) {
	f.mu.Lock()
	f.wakes = append(f.wakes, src.ID)
	f.mu.Unlock()
	if f.err != nil {
		return true, f.err
	}
	go func() {
		time.Sleep(f.delay)
		for i := range f.deliver {
			_, _ = f.reg.Append(src.ID, src.Name, 2, live.Arrival{Edge: "edge-1", Boot: "b", EdgeSeq: uint64(i + 1), Duration: 2, Start: time.Now()}, []byte("segment"))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return true, nil
}

func (f *fakeDemand) calls() (wakes, touches []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.wakes...), append([]string(nil), f.touches...)
}

// startOnDemand is a guarded node that knows the sleeping on-demand
// source "sleepy" (and "sleepy-open", open to anyone).
func startOnDemand(t *testing.T, fd *fakeDemand) (*node, *fakeAccess) {
	t.Helper()
	access := &fakeAccess{
		keys: keyRing{keyID: key}, now: time.Now, revoked: map[string]bool{},
		tokens: map[string]auth.Principal{apiToken: {TokenID: "aaaaaaaaaaaaaaaa", Name: "wall", Role: api.RoleViewer}},
		public: map[string]bool{},
	}
	n := startWith(t, vod.Config{CORSOrigin: origin, OnDemand: fd}, vod.Guard{Access: access, Playback: &fakeGate{}, Ingest: &fakeGate{}})
	fd.reg = n.live
	n.sources.srcs["sleepy"] = sqlstore.Source{ID: "id-sleepy", Name: "sleepy", Edge: "edge-1", Streaming: true, OnDemand: true}
	return n, access
}

// TestOnDemandUnauthorizedDoesNotWake: a playlist request that may not
// watch the source is refused before anything wakes its edge.
func TestOnDemandUnauthorizedDoesNotWake(t *testing.T) {
	fd := &fakeDemand{deliver: 3}
	n, _ := startOnDemand(t, fd)
	path := api.LivePlaylistPath("sleepy")
	other := sign(t, grant.SourceScope("id-cam"), issuer, time.Now().Add(time.Hour))
	for name, req := range map[string]string{
		"no grant":              path,
		"another source's":      withQuery(path, other),
		"a forged grant":        withQuery(path, "1."+keyID+".sid-sleepy."+issuer+".9999999999.AAAA"),
		"a segment with grant":  withQuery(api.PathLivePrefix+"sleepy/1.ts", sign(t, grant.SourceScope("id-sleepy"), issuer, time.Now().Add(time.Hour))),
		"a segment, no grant":   api.PathLivePrefix + "sleepy/1.ts",
		"an unknown source":     api.LivePlaylistPath("nope"),
		"not on demand, no key": api.LivePlaylistPath("waiting"),
	} {
		a := n.get(t, req)
		if a.StatusCode != http.StatusForbidden && a.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 403 or 404\n%s", name, a.StatusCode, a.body)
		}
	}
	// With a bearer token that is not known either.
	n.do(t, http.MethodGet, path, nil, map[string]string{"Authorization": "Bearer lmx_tok_unknown"}).envelope(t, http.StatusForbidden)
	if wakes, _ := fd.calls(); len(wakes) != 0 {
		t.Fatalf("woken %v by requests that may not watch", wakes)
	}
}

// TestOnDemandWakeServesPlayable: the first authorized playlist request
// wakes the source and waits for the edge's first segments, then answers
// a playlist that lists them, with the grant on every URI.
func TestOnDemandWakeServesPlayable(t *testing.T) {
	fd := &fakeDemand{deliver: 5, delay: 150 * time.Millisecond}
	n, _ := startOnDemand(t, fd)
	g := sign(t, grant.SourceScope("id-sleepy"), issuer, time.Now().Add(time.Hour))
	t0 := time.Now()
	a := n.get(t, withQuery(api.LivePlaylistPath("sleepy"), g)).wantStatus(t, http.StatusOK)
	took := time.Since(t0)
	if took > 1500*time.Millisecond {
		t.Errorf("answered after %v, want within 1.5 s", took)
	}
	pl, err := hls.ParseMediaPlaylist(strings.NewReader(string(a.body)), 1<<20)
	if err != nil {
		t.Fatalf("%v\n%s", err, a.body)
	}
	if len(pl.Segments) < 3 {
		t.Errorf("playlist lists %d segments, want at least 3\n%s", len(pl.Segments), a.body)
	}
	for _, s := range pl.Segments {
		if !strings.Contains(s.URI, api.GrantParam+"=") {
			t.Errorf("segment URI %q without the grant", s.URI)
		}
	}
	wakes, touches := fd.calls()
	if len(wakes) != 1 || wakes[0] != "id-sleepy" || len(touches) == 0 {
		t.Errorf("wakes %v, touches %v; want one wake and a touch", wakes, touches)
	}
	t.Logf("woken and answered in %v with %d segments", took, len(pl.Segments))

	// Now awake, with a window: the next request is served at once and
	// only touches.
	n.get(t, withQuery(api.LivePlaylistPath("sleepy"), g)).wantStatus(t, http.StatusOK)
	if wakes, touches := fd.calls(); len(wakes) != 1 || len(touches) < 2 {
		t.Errorf("after a second request: wakes %v, touches %v", wakes, touches)
	}
}

// TestOnDemandFewSegments: an edge with a single buffered segment is
// answered with it once its burst is over, not after the whole budget.
func TestOnDemandFewSegments(t *testing.T) {
	fd := &fakeDemand{deliver: 1, delay: 100 * time.Millisecond}
	n, _ := startOnDemand(t, fd)
	t0 := time.Now()
	a := n.do(t, http.MethodGet, api.LivePlaylistPath("sleepy"), nil, map[string]string{"Authorization": "Bearer " + apiToken}).wantStatus(t, http.StatusOK)
	took := time.Since(t0)
	if took > time.Second {
		t.Errorf("one segment answered after %v: the wait should end once the burst is over", took)
	}
	if !strings.Contains(string(a.body), "#EXTINF") {
		t.Errorf("no segment listed:\n%s", a.body)
	}
}

// TestOnDemandNothingInTime: an edge that delivers nothing gets the player
// a 503 with Retry-After within the budget, saying what happened.
func TestOnDemandNothingInTime(t *testing.T) {
	fd := &fakeDemand{deliver: 0}
	n, _ := startOnDemand(t, fd)
	g := sign(t, grant.SourceScope("id-sleepy"), issuer, time.Now().Add(time.Hour))
	t0 := time.Now()
	a := n.get(t, withQuery(api.LivePlaylistPath("sleepy"), g))
	took := time.Since(t0)
	a.envelope(t, http.StatusServiceUnavailable, `source "sleepy" is on demand`, "edge-1", "1.4 s")
	if a.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if took < time.Second || took > 1500*time.Millisecond {
		t.Errorf("answered after %v, want the budget (1.4 s)", took)
	}

	// An edge known to be offline: at once.
	fd.err = errors.New(`source "sleepy": edge "edge-1": the source's edge is offline`)
	t0 = time.Now()
	a = n.get(t, withQuery(api.LivePlaylistPath("sleepy"), g))
	a.envelope(t, http.StatusServiceUnavailable, "offline")
	if took := time.Since(t0); took > 500*time.Millisecond {
		t.Errorf("offline edge answered after %v, want at once", took)
	}
}
