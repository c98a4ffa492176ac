package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// TestRecordAcrossUplinkOutage: the edge's uplink to the control node (MQTT
// and HTTP both) is black-holed for 30 s in the middle of a recording of a
// source that also streams live, then comes back. Live upload skips ahead
// to the newest segments; the recording gets everything, in order, and, as
// it is one ffmpeg run, its playlist has no EXT-X-DISCONTINUITY at all: the
// live side's jump is no break in the recorded media.
func TestRecordAcrossUplinkOutage(t *testing.T) {
	t.Parallel()
	const (
		src    = "rec-uplink"
		outage = 30 * time.Second
		after  = 10 * time.Second
	)
	store := newRecordStore(t, "file")
	cn := store.startControld(t)
	mqttFwd := startForwarder(t, "mqtt", loopback(cn.mqttPort))
	httpFwd := startForwarder(t, "http", loopback(cn.vodPort))
	// The edge dials the control node through the forwarders only.
	via := *cn
	via.mqttURL = "mqtt://" + mqttFwd.addr()
	via.vodURL = "http://" + httpFwd.addr()
	edge := startEdge(t, lmxEdgeBin, "edge-uplink", &via, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	source := getSource(t, cn, src)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	live := cn.liveURL(src)
	if pl := waitLive(t, live, 20*time.Second); pl.DiscontinuitySequence != 0 || hasDiscontinuity(pl.Segments) {
		t.Fatalf("live playlist has a discontinuity before any outage")
	}
	waitBuffered(t, edge, src, 3, 20*time.Second)

	rec := recStart(t, cn, src, "-2s")
	vod := cn.vodURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8"
	eventually(t, 15*time.Second, 250*time.Millisecond, "the recording to hold 5 segments", func() (bool, string) {
		r := getRecording(t, cn, rec.ID)
		return r.Segments >= 5, itoa(r.Segments) + " segments"
	})

	// Black hole: the connections stay open, nothing crosses either way.
	before := getRecording(t, cn, rec.ID)
	mqttFwd.setBlackHole(true)
	httpFwd.setBlackHole(true)
	down := time.Now()
	t.Logf("uplink black-holed with %d segments recorded", before.Segments)
	// What the outage does, seen from both sides: the edge holds what the
	// recording waits for, the control node gets nothing and marks the edge
	// offline once its heartbeats stop.
	maxPending := 0
	offline := false
	for time.Since(down) < outage {
		time.Sleep(time.Second)
		if st, err := edgeSource(edge, src); err == nil {
			maxPending = max(maxPending, st.PendingRecord)
		}
		if !offline {
			offline = edgeIsOffline(t, cn, edge.name)
		}
	}
	during := getRecording(t, cn, rec.ID)
	t.Logf("after %s of black hole: the edge held %d segments for the recording, the control node has %d (+%d); %d bytes discarded",
		time.Since(down).Round(time.Millisecond), maxPending, during.Segments, during.Segments-before.Segments, mqttFwd.dropped.Load()+httpFwd.dropped.Load())
	if maxPending < 20 {
		t.Errorf("the edge held at most %d segments for the recording during a %s outage, want about 30", maxPending, outage)
	}
	if grew := during.Segments - before.Segments; grew > 2 {
		t.Errorf("the recording grew by %d segments while the uplink was black-holed: the forwarder let traffic through", grew)
	}
	if !offline {
		t.Errorf("the control node never showed edge %s offline during a %s outage", edge.name, outage)
	}
	if httpFwd.dropped.Load() == 0 {
		t.Errorf("the HTTP forwarder discarded nothing: the edge did not try to upload during the outage")
	}

	// Back: every connection is reset, the edge reconnects and catches up.
	mqttFwd.reset()
	httpFwd.reset()
	up := time.Now()
	t.Logf("uplink restored after %s", up.Sub(down).Round(time.Millisecond))
	waitEdgeOnline(t, cn, edge.name, 20*time.Second)
	// The live side skipped ahead, and its playlist says so.
	eventually(t, 15*time.Second, 200*time.Millisecond, "the live playlist to mark the jump after the outage", func() (bool, string) {
		pl, _, err := fetchPlaylist(live)
		if err != nil {
			return false, err.Error()
		}
		if pl.DiscontinuitySequence > 0 || hasDiscontinuity(pl.Segments) {
			t.Logf("live playlist after the outage: discontinuity sequence %d, EXT-X-DISCONTINUITY listed: %v", pl.DiscontinuitySequence, hasDiscontinuity(pl.Segments))
			return true, ""
		}
		return false, fmt.Sprintf("%d segments, no discontinuity", len(pl.Segments))
	})
	if !strings.Contains(edge.proc.Output(), "live upload fell behind; skipping to the newest segments") {
		t.Errorf("the edge did not log skipping live upload ahead after the outage")
	}

	time.Sleep(time.Until(up.Add(after))) // recording after the outage
	stopped := recStop(t, cn, rec.ID)
	window := stopped.EndTS.Sub(stopped.StartTS).Seconds()
	t.Logf("recorded window %.3f s", window)
	final := waitRecordingComplete(t, cn, edge, src, stopped)
	// Complete: no gap, its media as long as the window.
	checkRecordingCovers(t, final, stopped, window)
	// Every edge segment of the window, once, from one edge run.
	objs := waitObjects(t, store, cn, source.ID, final.Segments, 30*time.Second)
	checkObjects(t, objs, source.ID, edge.name, final)
	// One ffmpeg run: no EXT-X-DISCONTINUITY, and every frame decodes.
	checkVOD(t, vod, final, window)
	if t.Failed() {
		if r, err := get(vod); err == nil {
			t.Logf("recording playlist:\n%s", r.Body)
		}
	}
	if st, err := edgeSource(edge, src); err != nil {
		t.Errorf("edge status: %v", err)
	} else if st.Dropped != 0 {
		t.Errorf("edge dropped %d segments of %s across the outage", st.Dropped, src)
	}
	expectNoErrorsLogged(t, edge.proc)
}

// hasDiscontinuity reports whether any of segs has EXT-X-DISCONTINUITY.
func hasDiscontinuity(segs []hls.Segment) bool {
	for _, s := range segs {
		if s.Discontinuity {
			return true
		}
	}
	return false
}

// edgeIsOffline reports whether GET /v1/edge on cn lists the edge offline.
func edgeIsOffline(t *testing.T, cn *controlNode, name string) bool {
	t.Helper()
	r, err := get(cn.apiURL + "/v1/edge")
	if err != nil {
		return false
	}
	var out struct {
		Edges []edgeJSON `json:"edges"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		return false
	}
	for _, e := range out.Edges {
		if e.Name == name {
			return !e.Online
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// A TCP forwarder with a black hole

// forwarder accepts TCP connections on loopback and copies each, both ways,
// to a connection it dials to target. Black-holed, it keeps every
// connection open but discards what arrives from either side, and accepts
// new connections without dialling anything: to both ends the network has
// gone silent. reset ends the black hole by closing every connection, so
// clients notice at once and reconnect, and forwards normally again.
type forwarder struct {
	t      *testing.T
	name   string
	target string
	ln     net.Listener

	dropped atomic.Int64 // bytes discarded while black-holed

	mu        sync.Mutex
	blackHole bool
	conns     map[net.Conn]bool
	wg        sync.WaitGroup
}

func startForwarder(t *testing.T, name, target string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("forwarder %s: %v", name, err)
	}
	f := &forwarder{t: t, name: name, target: target, ln: ln, conns: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *forwarder) addr() string { return f.ln.Addr().String() }

// setBlackHole starts or ends silently dropping everything.
func (f *forwarder) setBlackHole(on bool) {
	f.mu.Lock()
	f.blackHole = on
	f.mu.Unlock()
}

func (f *forwarder) isBlackHole() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blackHole
}

// reset ends the black hole and closes every connection.
func (f *forwarder) reset() {
	f.mu.Lock()
	f.blackHole = false
	n := len(f.conns)
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.t.Logf("forwarder %s: reset, %d connections closed", f.name, n)
}

func (f *forwarder) close() {
	f.ln.Close()
	f.reset()
	f.wg.Wait()
}

// track remembers c so reset closes it.
func (f *forwarder) track(c net.Conn) {
	f.mu.Lock()
	f.conns[c] = true
	f.mu.Unlock()
}

func (f *forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

func (f *forwarder) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.track(c)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(c)
			if f.isBlackHole() {
				// Accepted, never forwarded: read and discard until reset.
				f.pipe(io.Discard, c)
				return
			}
			u, err := net.DialTimeout("tcp", f.target, 5*time.Second)
			if err != nil {
				return
			}
			f.track(u)
			defer f.untrack(u)
			done := make(chan struct{})
			go func() {
				defer close(done)
				f.pipe(c, u)
				c.Close()
			}()
			f.pipe(u, c)
			u.Close()
			<-done
		}()
	}
}

// pipe copies src to dst until src fails, discarding while black-holed.
func (f *forwarder) pipe(dst io.Writer, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if f.isBlackHole() {
				f.dropped.Add(int64(n))
			} else if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // closed by reset, or by either end
		}
	}
}
