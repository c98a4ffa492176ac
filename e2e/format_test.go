package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestMultivariantPushRefused: a multivariant playlist (adaptive bitrate)
// pushed as the playlist, or beside it (where ffmpeg -master_pl_name sends
// it when the output URL has no %v), is refused at the edge with a 415
// that says how to push adaptive bitrate (the output URL
// .../v1/playlist/%v: TestABRLive), and nothing reaches the control node:
// no source is registered. (fMP4 pushes are carried: TestFMP4.)
func TestMultivariantPushRefused(t *testing.T) {
	cn := startControld(t)
	dir := t.TempDir()
	edge := startEdge(t, lmxEdgeBin, "edge-abr", cn, dir)
	const name = "cam-abr"
	master := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1140800,RESOLUTION=640x360,CODECS=\"avc1.64001e\"\nvid_0.m3u8\n"
	hdr := http.Header{"Video-Source-Name": {name}, "MPEG-TS-URI-Prefix": {"file://" + dir}}
	for _, path := range []string{"/v1/playlist", "/v1/master.m3u8"} {
		r := mustDo(t, http.MethodPost, edge.url+path, hdr, strings.NewReader(master))
		if r.Status != http.StatusUnsupportedMediaType || !strings.Contains(string(r.Body), "multivariant") || !strings.Contains(string(r.Body), "/v1/playlist/%v") {
			t.Errorf("POST %s of a multivariant playlist: %s, want 415 naming the form and what to push", path, r)
		}
	}
	r := mustDo(t, http.MethodGet, edge.url+"/v1/status", nil, nil)
	if r.Status != http.StatusOK || strings.Contains(string(r.Body), name) {
		t.Errorf("the edge's status lists the refused source: %s", r)
	}
	if slices.ContainsFunc(sourceLs(t, cn), func(s sourceJSON) bool { return s.Name == name }) {
		t.Errorf("source %s was registered from a refused push: %+v", name, sourceLs(t, cn))
	}
	if n := strings.Count(edge.proc.Output(), "playlist form not carried"); n != 1 {
		t.Errorf("the edge logged the refusal %d times, want once", n)
	}
}
