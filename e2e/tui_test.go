package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTUI drives the real `lmx tui` inside tmux, as an operator would: it
// reads the screen with capture-pane, presses keys with send-keys, and
// checks every action against the API (lmx source ls, lmx rec ls, the
// edge's own report). It also restarts the control node under the running
// dashboard, which must say it is reconnecting and then come back live by
// itself, and quits with q, which must end the program with status 0.
func TestTUI(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: TestTUI runs lmx tui inside tmux (Debian package tmux; make test-deps installs it)")
	}
	t.Parallel()
	const (
		src      = "cam-tui"
		edgeName = "edge-tui"
	)
	cn := startControld(t)
	edge := startEdge(t, lmxBin, edgeName, cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)

	term := startTUI(t, cn)

	// The dashboard is live and shows the edge online and the source off.
	term.waitScreen("the dashboard is live with the edge online and the source off", 15*time.Second, func(s tuiScreenText) (bool, string) {
		if !strings.Contains(s.header(), "● live") {
			return false, "header: " + s.header()
		}
		e := s.row(1, edgeName)
		if e == nil || !hasPrefixField(e, "online") {
			return false, fmt.Sprintf("edge row %q", e)
		}
		if st := sourceState(s.row(2, src), edgeName); st != "off" {
			return false, fmt.Sprintf("source %s stream state %q, want off", src, st)
		}
		return true, ""
	})
	if raw := term.captureColour(); !strings.Contains(raw, "\x1b[") {
		t.Errorf("capture-pane -e shows no colour escape at all: with TERM=xterm-256color and NO_COLOR unset the dashboard should draw in colour")
	}

	// Panels: 1 focuses Edges, 2 Sources (its only row selected).
	term.keys("1")
	term.waitScreen("1 focuses the Edges panel", 5*time.Second, func(s tuiScreenText) (bool, string) {
		return strings.Contains(s.text, "▶ [1] Edges") && !strings.Contains(s.text, "▶ [2] Sources"), "no ▶ before [1] Edges"
	})
	term.keys("2")
	term.waitScreen("2 focuses the Sources panel with the source selected", 5*time.Second, func(s tuiScreenText) (bool, string) {
		if !strings.Contains(s.text, "▶ [2] Sources") {
			return false, "no ▶ before [2] Sources"
		}
		return s.selected(2) == src, fmt.Sprintf("selected source %q", s.selected(2))
	})

	// s: streaming on, confirmed by the edge, on screen and in the API.
	term.keys("s")
	sawOn := false // status-line messages are checked once seen: a later event may replace them
	term.waitScreen("s turns streaming on and the edge confirms it", 20*time.Second, func(s tuiScreenText) (bool, string) {
		sawOn = sawOn || strings.Contains(s.text, src+": edge "+edgeName+" confirms streaming on") || strings.Contains(s.text, src+": streaming on")
		st := sourceState(s.row(2, src), edgeName)
		if st != "on" {
			return false, fmt.Sprintf("source %s stream state %q, want on", src, st)
		}
		if !sawOn {
			return false, "the status line does not say streaming is on"
		}
		if !strings.Contains(s.text, "[2] Sources (1, 1 streaming)") {
			return false, "the Sources title does not count 1 streaming"
		}
		return true, ""
	})
	found := false
	for _, s := range sourceLs(t, cn) {
		if s.Name == src {
			found = true
			if s.Streaming != 1 || !s.EdgeStreaming || !s.EdgeOnline {
				t.Errorf("after s in the dashboard, lmx source ls says %+v, want streaming 1, edge_streaming and edge_online true", s)
			}
		}
	}
	if !found {
		t.Errorf("lmx source ls does not list %s", src)
	}
	edgeStreams := false
	for _, e := range edgeLs(t, cn) {
		for _, s := range e.Sources {
			if e.Name == edgeName && s.Name == src {
				edgeStreams = s.Streaming
			}
		}
	}
	if !edgeStreams {
		t.Errorf("lmx edge ls: edge %s does not report %s streaming after s in the dashboard", edgeName, src)
	}
	waitLive(t, cn.liveURL(src), 20*time.Second)

	// c: the source's playback URL in the status line and, through OSC 52,
	// in tmux's paste buffer.
	term.keys("c")
	live := cn.liveURL(src)
	term.waitScreen("c shows the live playback URL", 5*time.Second, func(s tuiScreenText) (bool, string) {
		return strings.Contains(s.text, src+" live: "+live), "no " + live + " in the status line"
	})
	// With access control on, the URL is signed for the dashboard's token
	// and plays as it is.
	buf, err := term.tmux("show-buffer")
	if err != nil || !strings.HasPrefix(buf, live+"?grant=") {
		t.Errorf("tmux paste buffer after c is %q (%v), want %q?grant=…: the OSC 52 escape did not carry the signed URL", buf, err, live)
	} else if r := mustDo(t, http.MethodGet, buf, http.Header{anonymous: {"1"}}, nil); r.Status != http.StatusOK {
		t.Errorf("the copied URL does not play as it is: %s", r)
	}

	// r: a recording from 5 s ago, alias e2e.
	term.keys("r")
	term.waitScreen("r opens the record prompt with since -30s", 5*time.Second, func(s tuiScreenText) (bool, string) {
		return strings.Contains(s.text, "Start a recording of "+src) && strings.Contains(s.text, "-30s"), "no prompt with -30s"
	})
	term.keys("C-u")
	term.literal("-5s")
	term.waitScreen("the since field reads -5s, 5 s ago", 5*time.Second, func(s tuiScreenText) (bool, string) {
		return strings.Contains(s.text, "-5s") && strings.Contains(s.text, "(5s ago)") && !strings.Contains(s.text, "-30s"), "since is not -5s"
	})
	term.keys("Enter")
	term.literal("e2e")
	term.waitScreen("the alias field reads e2e", 5*time.Second, func(s tuiScreenText) (bool, string) {
		return strings.Contains(s.text, "▸ alias") && strings.Contains(s.text, "e2e"), "alias not focused or not typed"
	})
	asked := time.Now()
	term.keys("Enter")
	var recShort string
	sawStarted := false
	term.waitScreen("the recording appears active", 15*time.Second, func(s tuiScreenText) (bool, string) {
		sawStarted = sawStarted || strings.Contains(s.text, `"e2e" of `+src+" from")
		var r []string
		for _, f := range s.rows(3) {
			if hasField(f, "e2e") && hasField(f, src) {
				r = f
			}
		}
		if r == nil {
			return false, "no recording of " + src + " aliased e2e"
		}
		if recState(r) != "● rec" {
			return false, fmt.Sprintf("recording row %q is not ● rec", r)
		}
		if !strings.Contains(s.text, "[3] Recordings (1 active, 0 recent)") {
			return false, "the Recordings title does not count 1 active"
		}
		if !sawStarted {
			return false, "the status line does not say the recording started"
		}
		if rec := sourceRec(s.row(2, src)); !rec {
			return false, "the source row does not show ● REC"
		}
		recShort = r[0]
		return true, ""
	})
	recs := tuiRecLs(t, cn)
	if len(recs) != 1 {
		t.Fatalf("lmx rec ls lists %d recordings after r in the dashboard, want 1: %+v", len(recs), recs)
	}
	rec := recs[0]
	if rec.Active != 1 || rec.Alias != "e2e" || rec.SourceName != src || !strings.HasPrefix(rec.ID, recShort) {
		t.Errorf("lmx rec ls: %+v, want active 1, alias e2e, source %s, id starting %s", rec, src, recShort)
	}
	// -5s counts back from the moment enter was pressed (whole seconds).
	if back := asked.Sub(rec.StartTS); back < 3*time.Second || back > 10*time.Second {
		t.Errorf("recording starts %s before enter was pressed, want about 5s (since -5s): start_ts %s", back, rec.StartTS)
	}

	// x on the Recordings panel stops it.
	term.keys("3")
	term.waitScreen("3 focuses the Recordings panel with the recording selected", 5*time.Second, func(s tuiScreenText) (bool, string) {
		if !strings.Contains(s.text, "▶ [3] Recordings") {
			return false, "no ▶ before [3] Recordings"
		}
		return s.selected(3) == recShort, fmt.Sprintf("selected recording %q, want %s", s.selected(3), recShort)
	})
	term.keys("x")
	sawStopped := false
	term.waitScreen("x stops the recording", 15*time.Second, func(s tuiScreenText) (bool, string) {
		sawStopped = sawStopped || strings.Contains(s.text, "stopped recording "+recShort)
		var r []string
		for _, f := range s.rows(3) {
			if len(f) > 0 && f[0] == recShort {
				r = f
			}
		}
		if recState(r) != "done" {
			return false, fmt.Sprintf("recording row %q is not done", r)
		}
		if !sawStopped {
			return false, "the status line does not say it stopped"
		}
		if !strings.Contains(s.text, "[3] Recordings (0 active, 1 recent)") {
			return false, "the Recordings title does not count 0 active, 1 recent"
		}
		return true, ""
	})
	var stopped struct {
		Recording tuiRecording `json:"recording"`
	}
	r := mustDo(t, "GET", cn.apiURL+"/v1/recording/"+rec.ID, nil, nil)
	if err := json.Unmarshal(r.Body, &stopped); err != nil || r.Status != 200 {
		t.Errorf("GET /v1/recording/%s: %v %s", rec.ID, err, r)
	} else if got := stopped.Recording; got.Active != -1 || got.EndTS.IsZero() || got.Segments == 0 {
		t.Errorf("GET /v1/recording/%s after x: %+v, want active -1, an end and segments", rec.ID, got)
	}

	// The control node goes away: the dashboard says so and keeps the last
	// known state; it comes back on the same ports and data dir and the
	// dashboard is live again by itself.
	cn.proc.Stop()
	if t.Failed() {
		t.FailNow()
	}
	term.waitScreen("the dashboard says it is reconnecting and keeps the last known state", 10*time.Second, func(s tuiScreenText) (bool, string) {
		if !strings.Contains(s.header(), "○ reconnecting…") {
			return false, "header: " + s.header()
		}
		if !strings.Contains(s.text, "lost the control node at "+cn.apiURL) {
			return false, "the status line does not say the control node was lost"
		}
		if s.row(2, src) == nil || s.row(1, edgeName) == nil {
			return false, "the panels no longer list the edge and the source"
		}
		return true, ""
	})
	cn.start()
	sawBack := false
	term.waitScreen("the dashboard is live again after the restart", 20*time.Second, func(s tuiScreenText) (bool, string) {
		sawBack = sawBack || strings.Contains(s.text, "reconnected to "+cn.apiURL)
		if !strings.Contains(s.header(), "● live") {
			return false, "header: " + s.header()
		}
		if strings.Contains(s.text, "lost the control node") {
			return false, "the status line still says the control node is lost"
		}
		if !sawBack {
			return false, "the status line does not say it reconnected"
		}
		if e := s.row(1, edgeName); e == nil || !hasPrefixField(e, "online") {
			return false, fmt.Sprintf("edge row %q", e)
		}
		if st := sourceState(s.row(2, src), edgeName); st != "on" {
			return false, fmt.Sprintf("source %s stream state %q, want on", src, st)
		}
		return true, ""
	})

	// q quits with status 0 and gives the terminal back (no alternate screen).
	// tmux 3.3 may mark the pane dead before it has read the exit status
	// (pane_dead 1, pane_dead_status empty, for good), so the shell that
	// runs lmx in the pane also writes the status to a file.
	term.keys("q")
	var dead, status string
	eventually(t, 10*time.Second, 100*time.Millisecond, "lmx tui exits after q", func() (bool, string) {
		out, err := term.tmux("display-message", "-p", "-t", "tui", "#{pane_dead}:#{pane_dead_status}")
		if err != nil {
			return false, err.Error()
		}
		dead, status, _ = strings.Cut(strings.TrimSpace(out), ":")
		if b, err := os.ReadFile(term.statusFile); err == nil && status == "" {
			status = strings.TrimSpace(string(b))
		}
		return dead == "1" && status != "", fmt.Sprintf("pane_dead %q, pane_dead_status %q", dead, status)
	})
	if status != "0" {
		t.Errorf("lmx tui exited with status %s after q, want 0", status)
	}
	if s := term.capture(); strings.Contains(s.text, "[2] Sources") || strings.Contains(s.text, "lmx:") {
		t.Errorf("after q the pane still shows the dashboard or an error: the terminal was not restored")
	}
	if t.Failed() {
		return
	}
	term.done = true
}

// ---------------------------------------------------------------------------
// The terminal

// tuiTerm is `lmx tui` running in a detached tmux session "tui" on a
// private tmux server.
type tuiTerm struct {
	t      *testing.T
	socket string
	env    []string
	// statusFile gets lmx's exit status from the pane's shell.
	statusFile string
	last       tuiScreenText
	done       bool // passed: no screen to log
}

// startTUI runs `lmx --server cn tui` at 120x40 in a fresh tmux server,
// with TERM=xterm-256color, NO_COLOR unset and no tmux config, and kills
// the server when the test ends. The pane stays after the program exits so
// that its exit status can be read.
func startTUI(t *testing.T, cn *controlNode) *tuiTerm {
	t.Helper()
	term := &tuiTerm{t: t, socket: fmt.Sprintf("lmx-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "NO_COLOR", k == "TERM", k == "TMUX", k == "TMUX_PANE", k == "COLORTERM", strings.HasPrefix(k, "LMX_"):
			continue
		}
		term.env = append(term.env, kv)
	}
	term.env = append(term.env, "TERM=xterm-256color")
	if cn.adminToken != "" {
		term.env = append(term.env, "LMX_TOKEN="+cn.adminToken)
	}
	term.statusFile = filepath.Join(t.TempDir(), "tui-exit-status")
	// CI is unset too: termenv takes a set CI to mean "no terminal" and drops
	// colour, and CI runs this test with CI=true.
	cmdline := "env -u NO_COLOR -u CI TERM=xterm-256color " + shellQuote(lmxBin) + " --server " + shellQuote(cn.apiURL) + " tui" +
		"; s=$?; echo $s >" + shellQuote(term.statusFile) + "; exit $s"
	// One command list, so that remain-on-exit and set-clipboard hold
	// before the program starts.
	if _, err := term.tmux("start-server", ";",
		"set-option", "-g", "remain-on-exit", "on", ";",
		"set-option", "-g", "set-clipboard", "on", ";",
		"new-session", "-d", "-s", "tui", "-x", "120", "-y", "40", cmdline); err != nil {
		t.Fatalf("tmux new-session: %v", err)
	}
	sockPath, _ := term.tmux("display-message", "-p", "#{socket_path}")
	t.Logf("tmux -L %s: %s", term.socket, cmdline)
	t.Cleanup(func() {
		_, _ = term.tmux("kill-server")
		if p := strings.TrimSpace(sockPath); p != "" {
			_ = os.Remove(p)
		}
	})
	// Runs before the server is killed: log what the screen showed.
	t.Cleanup(func() {
		if term.done || !t.Failed() {
			return
		}
		s := term.capture()
		if s.text == "" {
			s = term.last
		}
		t.Logf("the last screen of lmx tui (120x40):\n%s", s.text)
	})
	return term
}

// tmux runs a tmux command on the test's server and returns its stdout.
func (term *tuiTerm) tmux(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-L", term.socket, "-f", "/dev/null"}, args...)...)
	cmd.Env = term.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// keys presses keys (tmux key names: s, Enter, C-u).
func (term *tuiTerm) keys(keys ...string) {
	term.t.Helper()
	term.t.Logf("tui: press %s", strings.Join(keys, " "))
	if _, err := term.tmux(append([]string{"send-keys", "-t", "tui"}, keys...)...); err != nil {
		term.t.Fatal(err)
	}
}

// literal types text as it is.
func (term *tuiTerm) literal(text string) {
	term.t.Helper()
	term.t.Logf("tui: type %q", text)
	if _, err := term.tmux("send-keys", "-t", "tui", "-l", "--", text); err != nil {
		term.t.Fatal(err)
	}
}

// capture is the screen as text (empty when tmux cannot say).
func (term *tuiTerm) capture() tuiScreenText {
	out, err := term.tmux("capture-pane", "-p", "-t", "tui")
	if err != nil {
		return tuiScreenText{}
	}
	term.last = tuiScreenText{text: out}
	return term.last
}

// captureColour is the screen with its colour escapes.
func (term *tuiTerm) captureColour() string {
	out, _ := term.tmux("capture-pane", "-e", "-p", "-t", "tui")
	return out
}

// waitScreen polls the screen until ok accepts it.
func (term *tuiTerm) waitScreen(what string, timeout time.Duration, ok func(tuiScreenText) (bool, string)) {
	term.t.Helper()
	start := time.Now()
	eventually(term.t, timeout, 100*time.Millisecond, "tui: "+what, func() (bool, string) {
		s := term.capture()
		if s.text == "" {
			return false, "capture-pane gave nothing"
		}
		return ok(s)
	})
	term.t.Logf("tui: %s (%s)", what, time.Since(start).Round(time.Millisecond))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ---------------------------------------------------------------------------
// Reading the screen

// tuiScreenText is one capture of the dashboard.
type tuiScreenText struct{ text string }

func (s tuiScreenText) lines() []string { return strings.Split(s.text, "\n") }

func (s tuiScreenText) header() string { return s.lines()[0] }

var tuiPanelTitles = []string{"", "[1] Edges", "[2] Sources", "[3] Recordings"}

// rows are the fields of panel n's data rows (between its column header
// and the next panel or the first blank line), without the cursor mark.
func (s tuiScreenText) rows(n int) [][]string {
	var out [][]string
	in := false
	header := false
	for _, l := range s.lines() {
		switch {
		case strings.Contains(l, tuiPanelTitles[n]):
			in, header = true, true
			continue
		case !in:
			continue
		case strings.Contains(l, "] ") && strings.Contains(l, "───"), strings.TrimSpace(l) == "":
			return out
		case header:
			header = false
			continue
		}
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "›"))
		out = append(out, f)
	}
	return out
}

// row is the row of panel n whose first field is name (the first row when
// name is empty), or nil.
func (s tuiScreenText) row(n int, name string) []string {
	for _, r := range s.rows(n) {
		if len(r) > 0 && (name == "" || r[0] == name) {
			return r
		}
	}
	return nil
}

// selected is the first field of panel n's row under the cursor (›).
func (s tuiScreenText) selected(n int) string {
	in := false
	for _, l := range s.lines() {
		if strings.Contains(l, tuiPanelTitles[n]) {
			in = true
			continue
		}
		if in && strings.Contains(l, "] ") && strings.Contains(l, "───") {
			return ""
		}
		if in && strings.HasPrefix(l, "›") {
			if f := strings.Fields(strings.TrimPrefix(l, "›")); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// sourceState is a source row's STREAM column: the field after its edge
// (on, off, starting, stopping).
func sourceState(row []string, edge string) string {
	for i, f := range row {
		if f == edge && i+1 < len(row) {
			return row[i+1]
		}
	}
	return ""
}

// sourceRec reports whether a source row shows ● REC.
func sourceRec(row []string) bool {
	return len(row) >= 2 && row[len(row)-2] == "●" && row[len(row)-1] == "REC"
}

// recState is a recording row's STATE column: "● rec" or "done".
func recState(row []string) string {
	for i, f := range row {
		if f == "done" {
			return "done"
		}
		if f == "●" && i+1 < len(row) && row[i+1] == "rec" {
			return "● rec"
		}
	}
	return ""
}

func hasField(row []string, f string) bool {
	for _, x := range row {
		if x == f {
			return true
		}
	}
	return false
}

func hasPrefixField(row []string, prefix string) bool {
	for _, x := range row {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}

// tuiRecording is the part of a recording TestTUI checks.
type tuiRecording struct {
	ID         string    `json:"id"`
	SourceName string    `json:"source_name"`
	Alias      string    `json:"alias"`
	Active     int       `json:"active"`
	StartTS    time.Time `json:"start_ts"`
	EndTS      time.Time `json:"end_ts"`
	Segments   int       `json:"segments"`
}

// tuiRecLs is `lmx rec ls --json`.
func tuiRecLs(t *testing.T, cn *controlNode) []tuiRecording {
	t.Helper()
	out := mustLMX(t, cn, "rec", "ls", "--json")
	var recs []tuiRecording
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("lmx rec ls --json: not a JSON list of recordings: %v\n%s", err, out)
	}
	return recs
}
