package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// revokeBound is how soon after a revocation returns everything it cuts
// must be seen cut.
const revokeBound = 2 * time.Second

// TestRevokeTokenUnderLoad revokes a viewer token while eight clients use
// it as fast as they can: on the management API (GET /v1/source with the
// token) and on playback (the live playlist and its newest segment with a
// grant the token minted). Every client sees its first refusal (401 on the
// API, 403 on playback) within 2 s of `lmx token revoke` returning, and
// never a 200 after it; an event stream the token opened ends within the
// same 2 s. The clients share the operator's address and keep presenting
// the revoked token: that is no guess, so the address is never throttled
// (no 429) and the operator's own requests still go through.
func TestRevokeTokenUnderLoad(t *testing.T) {
	t.Parallel()
	const (
		src     = "camera-0"
		clients = 8
	)
	cn := startControld(t)
	edge := startEdge(t, lmxBin, "edge-revoke-token", cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	waitLive(t, cn.liveURL(src), 20*time.Second)

	secret := strings.TrimSpace(mustLMX(t, cn, "token", "create", "v", "--role", "viewer"))
	signed := sourceURL(t, cn, src, "--token", secret)

	// A plain client: nothing but what each request says.
	plain := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * clients}}
	t.Cleanup(plain.CloseIdleConnections)

	// The token's event stream: open, and live (its hello frame read).
	streamEnded := make(chan time.Time, 1)
	{
		req, err := http.NewRequest(http.MethodGet, cn.apiURL+"/v1/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			t.Fatalf("GET /v1/events: %v", err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("GET /v1/events with the viewer token: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || line != "event: hello\n" {
			t.Fatalf("GET /v1/events: first line %q (%v), want the hello frame", line, err)
		}
		go func() {
			// Read (and drop) frames until the stream ends.
			_, err := br.WriteTo(io.Discard)
			streamEnded <- time.Now()
			t.Logf("event stream ended: %v", err)
		}()
	}

	// The load.
	var (
		stop = make(chan struct{})
		wg   sync.WaitGroup
		logs = make([]*clientLog, clients)
	)
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopLoad() // also when the test fails half-way
	for i := range logs {
		logs[i] = &clientLog{name: fmt.Sprintf("client %d", i+1)}
		wg.Add(1)
		go func(c *clientLog) {
			defer wg.Done()
			c.run(t, plain, cn.apiURL+"/v1/source", secret, signed, stop)
		}(logs[i])
	}
	// Until every client has played and listed sources with the token.
	eventually(t, 20*time.Second, 50*time.Millisecond, "every client served with the viewer token", func() (bool, string) {
		for _, c := range logs {
			c.mu.Lock()
			ok := c.api.ok > 0 && c.play.ok > 0
			c.mu.Unlock()
			if !ok {
				return false, c.name + " not served yet"
			}
		}
		return true, ""
	})
	time.Sleep(time.Second) // more load before the revocation, not a synchronisation

	mustLMX(t, cn, "token", "revoke", "v")
	revoked := time.Now()
	// Every client refused on both, or the bound passed.
	eventually(t, revokeBound+10*time.Second, 20*time.Millisecond, "every client refused", func() (bool, string) {
		for _, c := range logs {
			c.mu.Lock()
			ok := !c.api.refusedAt.IsZero() && !c.play.refusedAt.IsZero()
			c.mu.Unlock()
			if !ok {
				return false, c.name + " not refused on both yet"
			}
		}
		return true, ""
	})
	time.Sleep(2 * time.Second) // the load goes on: no 200 may follow a refusal
	stopLoad()

	var worstAPI, worstPlay time.Duration
	for _, c := range logs {
		api, play := c.api.refusedAt.Sub(revoked), c.play.refusedAt.Sub(revoked)
		worstAPI, worstPlay = max(worstAPI, api), max(worstPlay, play)
		t.Logf("%s: API %d × 200 then first %d at %+dms (then %v); playback %d × 200 then first %d at %+dms (then %v)",
			c.name, c.api.ok, c.api.firstRefusal, api.Milliseconds(), c.api.after,
			c.play.ok, c.play.firstRefusal, play.Milliseconds(), c.play.after)
		for _, l := range []struct {
			what string
			log  *statusLog
			want int
		}{{"API", &c.api, http.StatusUnauthorized}, {"playback", &c.play, http.StatusForbidden}} {
			switch {
			case l.log.firstRefusal != l.want:
				t.Errorf("%s: first %s refusal %d, want %d", c.name, l.what, l.log.firstRefusal, l.want)
			case l.log.refusedAt.Sub(revoked) > revokeBound:
				t.Errorf("%s: first %s refusal %s after the revocation returned, want at most %s", c.name, l.what, l.log.refusedAt.Sub(revoked), revokeBound)
			}
			if l.log.okAfter > 0 {
				t.Errorf("%s: %d × 200 on %s after its first refusal", c.name, l.log.okAfter, l.what)
			}
			for code := range l.log.after {
				if code != l.want {
					t.Errorf("%s: %s answered %d after the revocation (all: %v), want only %d", c.name, l.what, code, l.log.after, l.want)
				}
			}
		}
		if len(c.unexpected) > 0 {
			t.Errorf("%s: unexpected answers: %s", c.name, strings.Join(c.unexpected, "; "))
		}
	}
	t.Logf("revocation → first refusal seen by every client: API %dms, playback %dms (from `lmx token revoke` returning)",
		worstAPI.Milliseconds(), worstPlay.Milliseconds())

	// The operator, at the same address, is not held back.
	var toks []struct {
		Name      string    `json:"name"`
		RevokedAt time.Time `json:"revoked_at"`
	}
	decodeJSON(t, "lmx token ls --json", []byte(mustLMX(t, cn, "token", "ls", "--json")), &toks)
	listed := false
	for _, tok := range toks {
		if tok.Name == "v" {
			listed = true
			if tok.RevokedAt.Before(revoked.Add(-time.Minute)) {
				t.Errorf("lmx token ls: token v revoked at %s, want just now", tok.RevokedAt)
			}
		}
	}
	if !listed {
		t.Errorf("lmx token ls does not list token v: %+v", toks)
	}

	select {
	case ended := <-streamEnded:
		d := ended.Sub(revoked)
		t.Logf("revocation → the token's event stream ended: %dms", d.Milliseconds())
		if d > revokeBound {
			t.Errorf("the revoked token's event stream ended %s after the revocation, want at most %s", d, revokeBound)
		}
	default:
		t.Errorf("the revoked token's event stream is still open %s after the revocation", time.Since(revoked).Round(time.Millisecond))
	}
}

// clientLog is what one load client saw.
type clientLog struct {
	name string

	mu         sync.Mutex
	api, play  statusLog
	unexpected []string
}

// statusLog counts a client's answers on one side (API or playback).
type statusLog struct {
	ok           int         // 200s before the first refusal
	refusedAt    time.Time   // when the first refusal came
	firstRefusal int         // its status
	after        map[int]int // statuses from the first refusal on
	okAfter      int         // 200s after the first refusal
}

func (l *statusLog) add(status int, refusal bool, at time.Time) {
	switch {
	case l.refusedAt.IsZero() && status == http.StatusOK:
		l.ok++
		return
	case l.refusedAt.IsZero() && refusal:
		l.refusedAt, l.firstRefusal, l.after = at, status, map[int]int{}
	case l.refusedAt.IsZero():
		return
	}
	l.after[status]++
	if status == http.StatusOK {
		l.okAfter++
	}
}

func (c *clientLog) record(l *statusLog, what string, status int, refusal bool) {
	at := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case status == http.StatusOK || refusal:
		l.add(status, refusal, at)
	default:
		c.unexpected = append(c.unexpected, fmt.Sprintf("%s: %d", what, status))
	}
}

// run sends, until stop, GET api with the token, then the signed playlist
// and its newest segment (the last one known once the playlist is refused).
func (c *clientLog) run(t *testing.T, hc *http.Client, api, token, playlist string, stop <-chan struct{}) {
	send := func(u string, auth bool) (int, []byte) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			return 0, nil
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			c.mu.Lock()
			c.unexpected = append(c.unexpected, err.Error())
			c.mu.Unlock()
			return 0, nil
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil {
			c.mu.Lock()
			c.unexpected = append(c.unexpected, err.Error())
			c.mu.Unlock()
			return 0, nil
		}
		return resp.StatusCode, b.Bytes()
	}
	// 429 is a refusal too (then reported as not the one wanted).
	refusal := func(status, want int) bool { return status == want || status == http.StatusTooManyRequests }
	var seg string
	for {
		select {
		case <-stop:
			return
		default:
		}
		if st, _ := send(api, true); st != 0 {
			c.record(&c.api, "GET "+api, st, refusal(st, http.StatusUnauthorized))
		}
		st, body := send(playlist, false)
		if st == http.StatusOK {
			if pl, err := hls.ParseMediaPlaylist(bytes.NewReader(body), 0); err == nil && len(pl.Segments) > 0 {
				seg = resolve(playlist, pl.Segments[len(pl.Segments)-1].URI)
			} else {
				st = -1 // unparsable: unexpected
			}
		}
		if st != 0 {
			c.record(&c.play, "playlist", st, refusal(st, http.StatusForbidden))
		}
		if seg != "" {
			if st, _ := send(seg, false); st != 0 {
				c.record(&c.play, "segment "+seg, st, refusal(st, http.StatusForbidden))
			}
		}
	}
}

// TestRevokeEdgeUnderLoad revokes an edge while ffmpeg pushes to it and a
// recording of its source runs: within 2 s the control node lists it
// offline (its MQTT session closed) and the live playlist stops gaining
// segments while ffmpeg goes on pushing, as sampled for five target
// durations after those 2 s. Restored after about 10 s, the edge
// reconnects by itself with the credential it kept, live resumes, and the
// recording, once stopped, holds every segment of the revoked stretch:
// the edge kept them and retried.
func TestRevokeEdgeUnderLoad(t *testing.T) {
	t.Parallel()
	const (
		src     = "camera-0"
		sample  = 5 * time.Second // five target durations of 1 s
		revoked = 10 * time.Second
	)
	cn := startControld(t)
	edge := startEdge(t, lmxBin, "edge-revoke", cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	live := cn.liveURL(src)
	waitLive(t, live, 20*time.Second)
	rec := recStart(t, cn, src, "-2s")
	eventually(t, 20*time.Second, 250*time.Millisecond, "the recording to hold 3 segments", func() (bool, string) {
		r := getRecording(t, cn, rec.ID)
		return r.Segments >= 3, itoa(r.Segments) + " segments"
	})
	lastBefore := newestSeq(t, live)

	mustLMX(t, cn, "edge", "revoke", edge.name)
	revokedAt := time.Now()

	// Offline on the control node, and live frozen, sampled together.
	var (
		offlineAt  time.Time
		newest     = lastBefore
		newestAt   = revokedAt
		statuses   = map[int]int{}
		edgeBefore edgeSourceStatus
		maxPending int
	)
	sampleFrom := revokedAt.Add(revokeBound)
	for end := sampleFrom.Add(sample); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if offlineAt.IsZero() && edgeIsOffline(t, cn, edge.name) {
			offlineAt = time.Now()
		}
		if pl, r, err := fetchPlaylist(live); err == nil {
			statuses[r.Status]++
			if seq := pl.MediaSequence + uint64(len(pl.Segments)) - 1; seq > newest {
				newest, newestAt = seq, time.Now()
			}
		} else if r != nil {
			statuses[r.Status]++
		} else {
			t.Logf("live playlist: %v", err)
		}
		if st, err := edgeSource(edge, src); err == nil {
			if edgeBefore.LastSegmentAt.IsZero() && time.Now().After(sampleFrom) {
				edgeBefore = st
			}
			maxPending = max(maxPending, st.PendingRecord)
		}
	}
	edgeAfter, err := edgeSource(edge, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("revocation → edge offline on the control node: %dms; last new live segment %dms after it (sequence %d → %d); live playlist answers %v",
		offlineAt.Sub(revokedAt).Milliseconds(), newestAt.Sub(revokedAt).Milliseconds(), lastBefore, newest, statuses)
	t.Logf("meanwhile the edge took ffmpeg's segments until %s (%s before), and held up to %d for the recording",
		edgeAfter.LastSegmentAt.Format(time.RFC3339Nano), edgeBefore.LastSegmentAt.Format(time.RFC3339Nano), maxPending)
	switch {
	case offlineAt.IsZero():
		t.Errorf("the control node still lists edge %s online %s after its revocation", edge.name, time.Since(revokedAt).Round(time.Millisecond))
	case offlineAt.Sub(revokedAt) > revokeBound:
		t.Errorf("the control node listed the revoked edge offline only after %s, want at most %s", offlineAt.Sub(revokedAt), revokeBound)
	}
	if newestAt.After(sampleFrom) {
		t.Errorf("a new live segment (sequence %d) appeared %s after the revocation, want none after %s", newest, newestAt.Sub(revokedAt), revokeBound)
	}
	// ffmpeg kept pushing and the edge kept taking (and holding) segments.
	if got := edgeAfter.LastSegmentAt.Sub(edgeBefore.LastSegmentAt); got < sample-2*time.Second {
		t.Errorf("the edge took segments for only %s of the %s sampled: ffmpeg did not keep pushing", got, sample)
	}
	if maxPending < 5 {
		t.Errorf("the edge held at most %d segments for the recording while revoked, want about %s of them", maxPending, revokeBound+sample)
	}

	time.Sleep(time.Until(revokedAt.Add(revoked))) // the revoked stretch, not a synchronisation
	mustLMX(t, cn, "edge", "restore", edge.name)
	restoredAt := time.Now()
	var onlineAt, resumedAt time.Time
	eventually(t, 30*time.Second, 100*time.Millisecond, "edge back online and live resumed", func() (bool, string) {
		if onlineAt.IsZero() && !edgeIsOffline(t, cn, edge.name) {
			onlineAt = time.Now()
		}
		if resumedAt.IsZero() {
			if pl, _, err := fetchPlaylist(live); err == nil && pl.MediaSequence+uint64(len(pl.Segments))-1 > newest {
				resumedAt = time.Now()
			}
		}
		return !onlineAt.IsZero() && !resumedAt.IsZero(), fmt.Sprintf("online at %v, live resumed at %v", onlineAt, resumedAt)
	})
	t.Logf("restore → edge online: %dms; live resumed: %dms", onlineAt.Sub(restoredAt).Milliseconds(), resumedAt.Sub(restoredAt).Milliseconds())
	if edge.proc.Exited() {
		t.Fatalf("the edge exited while revoked (status %d)", edge.proc.ExitCode())
	}
	if !strings.Contains(edge.proc.Output(), "keeping segments and retrying") {
		t.Errorf("the edge never said it kept its segments and retried after the refusal of its credential")
	}

	time.Sleep(3 * time.Second) // recording after the restore
	stopped := recStop(t, cn, rec.ID)
	window := stopped.EndTS.Sub(stopped.StartTS).Seconds()
	final := waitRecordingComplete(t, cn, edge, src, stopped)
	for _, g := range final.Gaps {
		if g.From.Before(restoredAt) && g.To.After(revokedAt) {
			t.Errorf("the recording has a gap %s … %s (%.3f s) in the revoked stretch %s … %s",
				g.From.Format(time.RFC3339Nano), g.To.Format(time.RFC3339Nano), g.Seconds, revokedAt.Format(time.RFC3339Nano), restoredAt.Format(time.RFC3339Nano))
		}
	}
	checkRecordingCovers(t, final, stopped, window)
	if st, err := edgeSource(edge, src); err != nil {
		t.Errorf("edge status: %v", err)
	} else if st.Dropped != 0 {
		t.Errorf("the edge dropped %d segments of %s across the revocation", st.Dropped, src)
	}
}

// newestSeq is the media sequence number of the newest segment of the live
// playlist at u.
func newestSeq(t *testing.T, u string) uint64 {
	t.Helper()
	pl, _, err := fetchPlaylist(u)
	if err != nil {
		t.Fatal(err)
	}
	return pl.MediaSequence + uint64(len(pl.Segments)) - 1
}
