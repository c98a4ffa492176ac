package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// pushAnswer is the edge's JSON answer to an accepted playlist push.
type pushAnswer struct {
	Success bool   `json:"success"`
	Source  string `json:"source"`
	Taken   int    `json:"taken"`
	Skipped int    `json:"skipped"`
}

// pusher posts hand-made playlists to an edge the way ffmpeg does: POST
// /v1/playlist, LiveMix's two headers, a chunked body.
type pusher struct {
	t         *testing.T
	edge      *edgeNode
	durations map[string]float64 // EXTINF of known segment files
}

// playlist renders a live playlist listing names from media sequence seq.
func (p *pusher) playlist(seq uint64, names ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:%d\n", seq)
	for _, n := range names {
		d, ok := p.durations[n]
		if !ok {
			d = 1
		}
		fmt.Fprintf(&b, "#EXTINF:%f,\n%s\n", d, n)
	}
	return b.Bytes()
}

// send posts body with the given headers ("" leaves one out). chunked sends
// it without a Content-Length, as ffmpeg does.
func (p *pusher) send(source, prefix string, body []byte, chunked bool) *response {
	p.t.Helper()
	h := http.Header{}
	if source != "" {
		h.Set("Video-Source-Name", source)
	}
	if prefix != "" {
		h.Set("MPEG-TS-URI-Prefix", prefix)
	}
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // unknown length: Transfer-Encoding: chunked
	}
	return mustDo(p.t, http.MethodPost, p.edge.pushURL(), h, r)
}

// ok posts a playlist that must be accepted and returns the edge's answer.
func (p *pusher) ok(source string, body []byte) pushAnswer {
	p.t.Helper()
	r := p.send(source, "file://"+p.edge.allowDir, body, true)
	if r.Status != http.StatusOK {
		p.t.Fatalf("push of %s: %s, want 200", source, r)
	}
	var a pushAnswer
	decodeJSON(p.t, "push answer", r.Body, &a)
	if !a.Success || a.Source != source {
		p.t.Fatalf("push of %s: answer %s", source, r.Body)
	}
	return a
}

// TestBadInput sends the edge and the control node the mistakes clients
// make, over real HTTP, and checks each gets the right 4xx with a message
// that names the problem — and that good data around bad still flows.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cn := startControld(t)
	allow := t.TempDir()
	edge := startEdge(t, lmxBin, "edge-bad", cn, allow, "--max-playlist-bytes", "4KiB")
	gen := makeSegments(t, allow, "seg", 5)
	files := map[string][]byte{}
	p := &pusher{t: t, edge: edge, durations: map[string]float64{}}
	for _, s := range gen.Segments {
		b, err := os.ReadFile(filepath.Join(allow, s.URI))
		if err != nil {
			t.Fatal(err)
		}
		files[s.URI] = b
		p.durations[s.URI] = s.Duration
	}
	prefix := "file://" + allow
	good := p.playlist(0, "seg-0.ts")

	t.Run("malformed-playlist", func(t *testing.T) {
		p := *p
		p.t = t
		for _, c := range []struct {
			what, body string
			wants      []string
		}{
			{"bad EXTINF", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:abc,\nseg-0.ts\n", []string{"line 3", "abc"}},
			{"no #EXTM3U", "hello\n#EXTM3U\n", []string{"line 1", "EXTM3U"}},
			{"EXTINF without URI", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n", []string{"line 3"}},
			{"no target duration", "#EXTM3U\n#EXTINF:1.0,\nseg-0.ts\n", []string{"line 3", "EXT-X-TARGETDURATION"}},
			{"../ in a segment URI", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n../seg-0.ts\n", []string{"segment 1", ".."}},
			{"absolute segment path outside the prefix", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n/etc/passwd\n", []string{"segment 1"}},
		} {
			r := p.send("bad-1", prefix, []byte(c.body), true)
			expectError(t, c.what, r, http.StatusBadRequest, false, c.wants...)
		}
	})

	t.Run("prefix-outside-allowed-dir", func(t *testing.T) {
		p := *p
		p.t = t
		outside := t.TempDir()
		if err := os.WriteFile(filepath.Join(outside, "seg-0.ts"), files["seg-0.ts"], 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(allow, "link-out")
		if err := os.Symlink(outside, link); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ what, prefix string }{
			{"file:///etc", "file:///etc"},
			{"../ out of the allowed dir", "file://" + allow + "/../.."},
			{"a plain path outside", outside},
			{"symlink to a directory outside", "file://" + link},
		} {
			r := p.send("esc-1", c.prefix, good, true)
			expectError(t, c.what, r, http.StatusForbidden, false, "allow-dir")
		}
		r := p.send("esc-1", "http://example.com/segments/", good, true)
		expectError(t, "http:// prefix", r, http.StatusBadRequest, false, "MPEG-TS-URI-Prefix", "file://")
	})

	t.Run("symlinked-segment-skipped", func(t *testing.T) {
		p := *p
		p.t = t
		const src = "sym-1"
		outside := t.TempDir()
		marker := []byte("SECRET-OUTSIDE-THE-ALLOWED-DIR")
		secret := append([]byte{0x47}, marker...)
		secret = append(secret, bytes.Repeat([]byte{0xff}, 188-len(secret))...)
		if err := os.WriteFile(filepath.Join(outside, "secret.ts"), secret, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, "secret.ts"), filepath.Join(allow, "evil.ts")); err != nil {
			t.Fatal(err)
		}
		a := p.ok(src, p.playlist(0, "seg-0.ts", "evil.ts", "seg-1.ts"))
		if a.Taken != 2 || a.Skipped != 1 {
			t.Errorf("push with a symlink pointing outside: taken %d skipped %d, want taken 2 skipped 1", a.Taken, a.Skipped)
		}
		eventually(t, 5*time.Second, 50*time.Millisecond, "edge logs the skipped evil.ts", func() (bool, string) {
			for _, l := range strings.Split(edge.proc.Output(), "\n") {
				if strings.Contains(l, "skipped") && strings.Contains(l, "evil.ts") {
					return true, ""
				}
			}
			return false, "no log line says evil.ts was skipped"
		})
		waitSourceKnown(t, cn, src, 10*time.Second)
		mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "20s")
		live := cn.liveURL(src)
		var pl *hls.MediaPlaylist
		eventually(t, 15*time.Second, 200*time.Millisecond, "live playlist of "+src+" lists the two real segments", func() (bool, string) {
			got, _, err := fetchPlaylist(live)
			if err != nil {
				return false, err.Error()
			}
			pl = got
			return len(got.Segments) >= 2, fmt.Sprintf("%d segments", len(got.Segments))
		})
		want := [][]byte{files["seg-0.ts"], files["seg-1.ts"]}
		if len(pl.Segments) != len(want) {
			t.Fatalf("live playlist lists %d segments, want exactly the 2 real ones", len(pl.Segments))
		}
		for i, s := range pl.Segments {
			r := mustDo(t, http.MethodGet, resolve(live, s.URI), nil, nil)
			if err := checkSegment(r); err != nil {
				t.Errorf("segment %s: %v", s.URI, err)
			}
			if bytes.Contains(r.Body, marker) {
				t.Errorf("segment %s serves the file outside the allowed dir", s.URI)
			}
			if !bytes.Equal(r.Body, want[i]) {
				t.Errorf("segment %d (%s): %d bytes, not the bytes of seg-%d.ts (%d bytes)", i, s.URI, len(r.Body), i, len(want[i]))
			}
		}
		if !pl.Segments[1].Discontinuity {
			t.Errorf("the segment after the skipped one has no EXT-X-DISCONTINUITY")
		}
	})

	t.Run("body-over-limit", func(t *testing.T) {
		p := *p
		p.t = t
		body := append([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:1\n"), bytes.Repeat([]byte("# padding comment line, well over 4 KiB in all\n"), 200)...)
		for _, chunked := range []bool{false, true} {
			r := p.send("big-1", prefix, body, chunked)
			expectError(t, fmt.Sprintf("%d-byte playlist (chunked %v)", len(body), chunked), r, http.StatusRequestEntityTooLarge, false, "max-playlist-bytes")
		}
	})

	t.Run("missing-or-bad-headers", func(t *testing.T) {
		p := *p
		p.t = t
		expectError(t, "no Video-Source-Name", p.send("", prefix, good, true), http.StatusBadRequest, false, "Video-Source-Name")
		expectError(t, "no MPEG-TS-URI-Prefix", p.send("hdr-1", "", good, true), http.StatusBadRequest, false, "MPEG-TS-URI-Prefix")
		expectError(t, "bad Video-Source-Name", p.send("no/slashes", prefix, good, true), http.StatusBadRequest, false, "Video-Source-Name")
		expectError(t, "relative prefix", p.send("hdr-1", "segments/", good, true), http.StatusBadRequest, false, "MPEG-TS-URI-Prefix")
	})

	t.Run("missing-segment-then-real-ones", func(t *testing.T) {
		p := *p
		p.t = t
		const src = "gap-1"
		if a := p.ok(src, p.playlist(0, "missing-0.ts")); a.Taken != 0 || a.Skipped != 1 {
			t.Errorf("push listing a missing file: taken %d skipped %d, want 0 and 1", a.Taken, a.Skipped)
		}
		for i, names := range [][]string{
			{"missing-0.ts", "seg-0.ts"},
			{"missing-0.ts", "seg-0.ts", "seg-1.ts"},
		} {
			if a := p.ok(src, p.playlist(0, names...)); a.Taken != 1 || a.Skipped != 0 {
				t.Errorf("push %d: taken %d skipped %d, want 1 and 0 (only the new segment)", i+2, a.Taken, a.Skipped)
			}
		}
		waitSourceKnown(t, cn, src, 10*time.Second)
		mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "20s")
		for i, names := range [][]string{
			{"seg-0.ts", "seg-1.ts", "seg-2.ts"},
			{"seg-1.ts", "seg-2.ts", "seg-3.ts"},
		} {
			if a := p.ok(src, p.playlist(uint64(i+1), names...)); a.Taken != 1 || a.Skipped != 0 {
				t.Errorf("push after stream on %d: taken %d skipped %d, want 1 and 0", i+1, a.Taken, a.Skipped)
			}
		}
		live := cn.liveURL(src)
		want := [][]byte{files["seg-0.ts"], files["seg-1.ts"], files["seg-2.ts"], files["seg-3.ts"]}
		var bodies [][]byte
		eventually(t, 15*time.Second, 200*time.Millisecond, "live playlist of "+src+" lists seg-0 … seg-3", func() (bool, string) {
			pl, _, err := fetchPlaylist(live)
			if err != nil {
				return false, err.Error()
			}
			bodies = bodies[:0]
			for _, s := range pl.Segments {
				r, err := get(resolve(live, s.URI))
				if err != nil {
					return false, err.Error()
				}
				if err := checkSegment(r); err != nil {
					return false, s.URI + ": " + err.Error()
				}
				bodies = append(bodies, r.Body)
			}
			return len(bodies) >= len(want), fmt.Sprintf("%d segments listed", len(bodies))
		})
		if len(bodies) != len(want) {
			t.Fatalf("live playlist lists %d segments, want %d", len(bodies), len(want))
		}
		for i := range want {
			if !bytes.Equal(bodies[i], want[i]) {
				t.Errorf("live segment %d is not seg-%d.ts (%d bytes, want %d)", i, i, len(bodies[i]), len(want[i]))
			}
		}
		// The edge counts the file it could not read.
		eventually(t, 10*time.Second, 250*time.Millisecond, "edge reports the dropped segment of "+src, func() (bool, string) {
			for _, e := range edgeLs(t, cn) {
				for _, s := range e.Sources {
					if e.Name == edge.name && s.Name == src {
						return s.Dropped >= 1 && s.Uploaded >= 4, fmt.Sprintf("%+v", s)
					}
				}
			}
			return false, "source not listed under the edge"
		})
	})

	t.Run("control-node-api", func(t *testing.T) {
		api := cn.apiURL
		jsonCT := http.Header{"Content-Type": {"application/json"}}
		r := mustDo(t, http.MethodGet, api+"/v1/source?source_name=gap-1", nil, nil)
		var list struct {
			Sources []sourceJSON `json:"sources"`
		}
		decodeJSON(t, "source list", r.Body, &list)
		if len(list.Sources) != 1 || list.Sources[0].ID == "" {
			t.Fatalf("GET /v1/source?source_name=gap-1: %s", r)
		}
		id := list.Sources[0].ID

		expectError(t, "unknown source id", mustDo(t, http.MethodGet, api+"/v1/source/00000000-0000-4000-8000-000000000000", nil, nil), http.StatusNotFound, true)
		expectError(t, "unknown source name", mustDo(t, http.MethodGet, api+"/v1/source/no-such-source", nil, nil), http.StatusNotFound, true)
		expectError(t, "bad new_state", mustDo(t, http.MethodPut, api+"/v1/source/"+id+"/streaming?new_state=maybe", nil, nil), http.StatusBadRequest, true, "new_state")
		expectError(t, "missing new_state", mustDo(t, http.MethodPut, api+"/v1/source/"+id+"/streaming", nil, nil), http.StatusBadRequest, true, "new_state")
		expectError(t, "streaming of an unknown source", mustDo(t, http.MethodPut, api+"/v1/source/no-such-source/streaming?new_state=true", nil, nil), http.StatusNotFound, true)
		expectError(t, "delete an unknown source", mustDo(t, http.MethodDelete, api+"/v1/source/no-such-source", nil, nil), http.StatusNotFound, true)
		expectError(t, "bad JSON", mustDo(t, http.MethodPost, api+"/v1/source", jsonCT, strings.NewReader(`{"name": "x",`)), http.StatusBadRequest, true, "JSON")
		expectError(t, "JSON of the wrong shape", mustDo(t, http.MethodPost, api+"/v1/source", jsonCT, strings.NewReader(`["x"]`)), http.StatusBadRequest, true)
		expectError(t, "bad source name", mustDo(t, http.MethodPost, api+"/v1/source", jsonCT, strings.NewReader(`{"name": "bad name!"}`)), http.StatusBadRequest, true, "name")
		big := fmt.Sprintf(`{"name": "big-1", "description": %q}`, strings.Repeat("x", 100<<10))
		expectError(t, "100 KiB JSON body", mustDo(t, http.MethodPost, api+"/v1/source", jsonCT, strings.NewReader(big)), http.StatusRequestEntityTooLarge, true)
		if r := mustDo(t, http.MethodGet, api+"/v1/source/big-1", nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("the source of the refused 100 KiB body exists: %s", r)
		}
		expectError(t, "unknown endpoint", mustDo(t, http.MethodGet, api+"/v1/nothing-here", nil, nil), http.StatusNotFound, true)

		expectError(t, "unknown playback source", mustDo(t, http.MethodGet, cn.liveURL("no-such-source"), nil, nil), http.StatusNotFound, true, "no-such-source")
		expectError(t, "unknown live segment", mustDo(t, http.MethodGet, cn.vodURL+"/v1/vod/live/gap-1/1.ts", nil, nil), http.StatusNotFound, true)
		expectError(t, "live segment with a bad name", mustDo(t, http.MethodGet, cn.vodURL+"/v1/vod/live/gap-1/passwd", nil, nil), http.StatusNotFound, true)

		// The CLI says the same in words, with exit status 1.
		for _, args := range [][]string{
			{"source", "show", "no-such-source"},
			{"source", "stream", "on", "no-such-source"},
		} {
			res := runLMX(t, cn, args...)
			if res.Code != 1 || !strings.Contains(res.Stderr, "no-such-source") || !strings.Contains(res.Stderr, "not found") {
				t.Errorf("lmx %s: exit %d, stderr %q; want exit 1 and a message saying the source is not found", strings.Join(args, " "), res.Code, res.Stderr)
			}
		}
	})

	t.Run("no-auto-register", func(t *testing.T) {
		strict := startControld(t, "--no-auto-register")
		allow2 := t.TempDir()
		if err := os.WriteFile(filepath.Join(allow2, "seg-0.ts"), files["seg-0.ts"], 0o644); err != nil {
			t.Fatal(err)
		}
		edge2 := startEdge(t, lmxBin, "edge-strict", strict, allow2)
		p2 := &pusher{t: t, edge: edge2, durations: p.durations}
		const src = "cam-new"
		body := p2.playlist(0, "seg-0.ts")
		r := p2.send(src, "file://"+allow2, body, true)
		expectError(t, "push of an unregistered name", r, http.StatusNotFound, false, "lmx source add "+src)
		if r := mustDo(t, http.MethodGet, strict.apiURL+"/v1/source/"+src, nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("--no-auto-register control node registered %s anyway: %s", src, r)
		}
		expectError(t, "its playback", mustDo(t, http.MethodGet, strict.liveURL(src), nil, nil), http.StatusNotFound, true, src)

		// Once created as the message says, pushes are taken.
		mustLMX(t, strict, "source", "add", src)
		eventually(t, 15*time.Second, 500*time.Millisecond, "push of "+src+" accepted once created", func() (bool, string) {
			r := p2.send(src, "file://"+allow2, body, true)
			return r.Status == http.StatusOK, r.String()
		})
	})
	expectNoErrorsLogged(t, cn.proc)
	expectNoErrorsLogged(t, edge.proc)
}
