package controld

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUploadsKeepTheirStrings: strings from an upload outlive it (metric
// labels, the live registry's names). Uploads of two sources with names of
// the same length over one keep-alive connection once overwrote the first
// name in place, and /metrics then failed for good.
func TestUploadsKeepTheirStrings(t *testing.T) {
	n := startNode(t, nil)
	for _, name := range []string{"cam-a", "cam-b"} {
		if code, m, _ := do(t, "POST", n.api+"/v1/source", `{"name":"`+name+`"}`); code != 200 {
			t.Fatalf("create %s: %d %v", name, code, m)
		}
		if code, m, _ := do(t, "PUT", n.api+"/v1/source/"+name+"/streaming?new_state=true", ""); code != 200 {
			t.Fatalf("stream %s: %d %v", name, code, m)
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	for i, name := range []string{"cam-a", "cam-b", "cam-a", "cam-b"} {
		req, _ := http.NewRequest(http.MethodPut, n.vod+"/v1/ingest/"+name, bytes.NewReader(tsSegment(i)))
		req.Header.Set("Lmx-Edge", "edge-x")
		req.Header.Set("Lmx-Edge-Boot", "b00t")
		req.Header.Set("Lmx-Segment-Seq", "1")
		req.Header.Set("Lmx-Segment-Duration", "2")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %d to %s: %d", i, name, resp.StatusCode)
		}
	}
	resp, err := http.Get(n.api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{`lmx_segments_in_total{source="cam-a"} 2`, `lmx_segments_in_total{source="cam-b"} 2`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, name := range []string{"cam-a", "cam-b"} {
		if code, _, _ := do(t, "GET", n.vod+"/v1/vod/live/"+name+"/vid.m3u8", ""); code != 200 {
			t.Errorf("live playlist of %s: %d", name, code)
		}
	}
}
