package controld

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/lmx-video/lmx/api"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

func TestRecordingFromThePastWithoutStreaming(t *testing.T) {
	n := startNode(t, nil)
	// Six segments pushed before the recording starts: the edge buffers them.
	n.pushSegments(t, "cam", 0, 5)
	since := time.Now().Add(-5 * time.Second).Unix()
	code, m, _ := do(t, "POST", n.api+"/v1/source/cam/recording", fmt.Sprintf(`{"alias":"door","start_time_epoch":%d}`, since))
	if code != 200 {
		t.Fatalf("start: %d %v", code, m)
	}
	rec := m.Recording
	id := rec.ID
	if rec.Active != api.ActiveOn || rec.Alias != "door" {
		t.Fatalf("recording = %v", rec)
	}
	// Streaming stays off: recordings are fed anyway.
	n.pushSegments(t, "cam", 6, 7)
	eventually(t, "buffered and new segments recorded", 10*time.Second, func() bool {
		_, m, _ := do(t, "GET", n.api+"/v1/recording/"+id, "")
		return m.Recording.Segments == 8
	})
	// While active the playlist is an EVENT playlist.
	resp, err := http.Get(n.vod + "/v1/vod/recording/" + id + "/vid.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := hls.ParseMediaPlaylist(resp.Body, 1<<20)
	resp.Body.Close()
	if err != nil || pl.PlaylistType != "EVENT" || pl.EndList {
		t.Fatalf("active playlist: %+v %v", pl, err)
	}
	if code, m, _ := do(t, "DELETE", n.api+"/v1/recording/"+id, ""); code != 409 || !strings.Contains(m.errorText(), "stop it first") {
		t.Fatalf("rm active without force: %d %v", code, m)
	}
	if code, m, _ := do(t, "POST", n.api+"/v1/recording/"+id+"/stop", ""); code != 200 || m.Recording.Active != api.ActiveOff {
		t.Fatalf("stop: %d %v", code, m)
	}
	if code, _, _ := do(t, "POST", n.api+"/v1/recording/"+id+"/stop", ""); code != 409 {
		t.Fatalf("stopping twice: %d", code)
	}
	resp, err = http.Get(n.vod + "/v1/vod/recording/" + id + "/vid.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	pl, err = hls.ParseMediaPlaylist(resp.Body, 1<<20)
	resp.Body.Close()
	if err != nil || pl.PlaylistType != "VOD" || !pl.EndList || len(pl.Segments) != 8 {
		t.Fatalf("stopped playlist: %+v %v", pl, err)
	}
	// Every segment comes back byte for byte, in order.
	for i, seg := range pl.Segments {
		resp, err := http.Get(n.vod + "/v1/vod/recording/" + id + "/" + seg.URI)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(b, tsSegment(i)) {
			t.Fatalf("segment %d (%s): %d, equal=%v", i, seg.URI, resp.StatusCode, bytes.Equal(b, tsSegment(i)))
		}
	}
	// The objects reach the store (file:// under the data dir) and leave the spool.
	recDir := filepath.Join(n.srv.Config().DataDir, "recordings")
	eventually(t, "objects in the store", 10*time.Second, func() bool {
		return countFiles(t, recDir) == 8 && countFiles(t, filepath.Join(n.srv.Config().DataDir, "spool")) == 0
	})
	code, m, _ = do(t, "DELETE", n.api+"/v1/recording/"+id, "")
	if code != 200 || m.DeletedObjects != 8 {
		t.Fatalf("rm: %d %v", code, m)
	}
	if c := countFiles(t, recDir); c != 0 {
		t.Fatalf("%d objects left after rm", c)
	}
	if code, _, _ := do(t, "GET", n.vod+"/v1/vod/recording/"+id+"/vid.m3u8", ""); code != 404 {
		t.Fatalf("deleted recording playlist: %d", code)
	}
}

func TestOverlappingRecordingsShareObjects(t *testing.T) {
	n := startNode(t, nil)
	n.pushSegments(t, "cam", 0, 0)
	start := func() string {
		code, m, _ := do(t, "POST", n.api+"/v1/source/cam/recording", `{}`)
		if code != 200 {
			t.Fatalf("start: %d %v", code, m)
		}
		return m.Recording.ID
	}
	a := start()
	b := start()
	n.pushSegments(t, "cam", 1, 3)
	for _, id := range []string{a, b} {
		eventually(t, "segments in "+id, 10*time.Second, func() bool {
			_, m, _ := do(t, "GET", n.api+"/v1/recording/"+id, "")
			return m.Recording.Segments == 3
		})
	}
	recDir := filepath.Join(n.srv.Config().DataDir, "recordings")
	eventually(t, "3 shared objects", 10*time.Second, func() bool { return countFiles(t, recDir) == 3 })
	if code, m, _ := do(t, "DELETE", n.api+"/v1/recording/"+a+"?force=true", ""); code != 200 || m.DeletedObjects != 0 {
		t.Fatalf("rm a (objects shared with b): %d %v", code, m)
	}
	if c := countFiles(t, recDir); c != 3 {
		t.Fatalf("objects still used by b were deleted: %d left", c)
	}
	resp, err := http.Get(n.api + "/v1/source/cam/recording")
	if err != nil {
		t.Fatal(err)
	}
	var list api.RecordingsReply
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Recordings) != 1 || list.Recordings[0].ID != b {
		t.Fatalf("recordings of cam: %v", list.Recordings)
	}
	if code, _, _ := do(t, "POST", n.api+"/v1/source/cam/recording", `{"start_time_epoch": 99999999999}`); code != 400 {
		t.Fatalf("future start: %d", code)
	}
	if code, _, _ := do(t, "POST", n.api+"/v1/source/nope/recording", `{}`); code != 404 {
		t.Fatalf("unknown source: %d", code)
	}
	if code, _, _ := do(t, "GET", n.api+"/v1/recording?active=maybe", ""); code != 400 {
		t.Fatalf("bad active filter: %d", code)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.HasPrefix(fi.Name(), ".") {
			n++
		}
		return nil
	})
	return n
}
