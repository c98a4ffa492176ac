package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSourceRmWhilePushed: a real ffmpeg pushes cam1 through a real edge.
// `lmx source rm cam1` is refused (the source is still there, and the
// message says who pushes it and what to do); `--force` removes it, and
// after 5 s more of pushing `lmx source ls` still does not list it, while
// the edge says in its log why it refuses the push; `lmx source add cam1`
// takes it back and it goes live.
func TestSourceRmWhilePushed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binaries with ffmpeg")
	}
	cn := startControld(t)
	dir := t.TempDir()
	edge := startEdge(t, lmxBin, "gw-1", cn, dir)
	startFFmpeg(t, edge, "cam1", dir)
	waitSourceKnown(t, cn, "cam1", 20*time.Second)
	listed := func() bool {
		return slices.ContainsFunc(sourceLs(t, cn), func(s sourceJSON) bool { return s.Name == "cam1" })
	}
	first := sourceLs(t, cn)

	// Refused while pushed: the edge reports segments of cam1 every second.
	var refused cliResult
	eventually(t, 15*time.Second, 500*time.Millisecond, "lmx source rm cam1 refused while pushed", func() (bool, string) {
		refused = runLMX(t, cn, "source", "rm", "cam1")
		if refused.Code == 0 {
			t.Fatalf("lmx source rm cam1 removed a source still pushed: %s", refused.Stdout)
		}
		return strings.Contains(refused.Stderr, "still being pushed"), refused.Stderr
	})
	for _, want := range []string{`by edge "gw-1"`, "last segment", "stop the push", "lmx source rm cam1 --force", "lmx source add cam1"} {
		if !strings.Contains(refused.Stderr, want) {
			t.Errorf("the refusal %q does not say %q", refused.Stderr, want)
		}
	}
	if !listed() {
		t.Fatal("cam1 is gone after a refused rm")
	}

	// Forced: gone, and 5 s of the same push later still gone.
	out := mustLMX(t, cn, "source", "rm", "cam1", "--force")
	if !strings.Contains(out, "removed source cam1") || !strings.Contains(out, "lmx source add cam1") {
		t.Errorf("lmx source rm --force printed %q", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if listed() {
			t.Fatal("cam1 came back while ffmpeg kept pushing it")
		}
		time.Sleep(500 * time.Millisecond)
	}
	eventually(t, 10*time.Second, 250*time.Millisecond, "the edge logs why it refuses cam1", func() (bool, string) {
		log := edge.proc.Output()
		return strings.Contains(log, "push refused") && strings.Contains(log, `source \"cam1\" was removed`) &&
			strings.Contains(log, "lmx source add cam1"), log
	})
	if listed() {
		t.Fatal("cam1 came back")
	}
	r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/source/cam1", nil, nil)
	if r.Status != http.StatusNotFound {
		t.Errorf("GET /v1/source/cam1 after rm --force: %s", r)
	}

	// Added again: the push is taken and streams.
	mustLMX(t, cn, "source", "add", "cam1", "--segment-len", "1")
	mustLMX(t, cn, "source", "stream", "on", "cam1")
	pl := waitLive(t, cn.liveURL("cam1"), 30*time.Second)
	if len(pl.Segments) == 0 {
		t.Fatal("cam1 is not live after lmx source add")
	}
	expectH264(t, cn.liveURL("cam1"))
	again := sourceLs(t, cn)
	i := slices.IndexFunc(again, func(s sourceJSON) bool { return s.Name == "cam1" })
	j := slices.IndexFunc(first, func(s sourceJSON) bool { return s.Name == "cam1" })
	if i < 0 || j < 0 || again[i].ID == first[j].ID || again[i].Edge != "gw-1" {
		t.Errorf("cam1 after add: %+v, before: %+v: want a new id on gw-1", again, first)
	}
	expectNoErrorsLogged(t, cn.proc)
	expectNoErrorsLogged(t, edge.proc)
}
