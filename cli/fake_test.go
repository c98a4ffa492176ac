package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/redact"
)

// testNow is the frozen "now" of every command test.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	// Detail views print local times; pin the zone so outputs are stable.
	time.Local = time.UTC
	// Output must not depend on the environment the tests run in.
	for _, k := range []string{"LMX_SERVER", "LMX_TOKEN", "LMX_CA_FILE", "LMX_DATA_DIR", "LMX_LOG_LEVEL", "LMX_LOG_FORMAT", "LMX_CONFIG", "COLUMNS"} {
		os.Unsetenv(k)
	}
	// Nor on the machine's configuration files: the default ones are absent.
	controldConfigFile, edgedConfigFile = testDataDir+"/controld.yaml", testDataDir+"/edged.yaml"
	os.Exit(m.Run())
}

// fakeClient is an in-memory control node for command tests.
type fakeClient struct {
	mu         sync.Mutex
	sources    []api.Source
	edges      []api.Edge
	recordings []api.Recording // see rec_fake_test.go
	tokens     []api.Token     // see auth_fake_test.go

	// err, when set, is what every call returns.
	err error
	// confirmAfter is how many GetSource polls pass after SetStreaming
	// before the edge confirms the new state; -1 means never.
	confirmAfter int
	// onCall runs at the start of every call, with the method's name.
	onCall func(method string)
	// pushed names the sources an edge pushes now: removing one takes force.
	pushed map[string]bool

	// What the commands asked for.
	calls      []string
	created    []api.NewSource
	listedName []string
	polls      int
	forced     []bool // DeleteSource's force, per call
	recCalls   []recCall
	authCalls  []authCall
}

var _ Client = (*fakeClient)(nil)

func (f *fakeClient) call(method string) error {
	f.calls = append(f.calls, method)
	if f.onCall != nil {
		f.onCall(method)
	}
	return f.err
}

func notFound() error {
	return &api.StatusError{Status: http.StatusNotFound, Message: "source not found"}
}

func (f *fakeClient) find(ref string) int {
	return slices.IndexFunc(f.sources, func(s api.Source) bool { return s.ID == ref || s.Name == ref })
}

func (f *fakeClient) ListSources(_ context.Context, name string) ([]api.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListSources"); err != nil {
		return nil, err
	}
	f.listedName = append(f.listedName, name)
	var out []api.Source
	for _, s := range f.sources {
		if name == "" || s.Name == name {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeClient) GetSource(_ context.Context, ref string) (api.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetSource"); err != nil {
		return api.Source{}, err
	}
	i := f.find(ref)
	if i < 0 {
		return api.Source{}, notFound()
	}
	f.polls++
	if f.confirmAfter >= 0 && f.polls >= f.confirmAfter {
		f.sources[i].EdgeStreaming = f.sources[i].IsStreaming()
	}
	return f.sources[i], nil
}

func (f *fakeClient) CreateSource(_ context.Context, ns api.NewSource) (api.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateSource"); err != nil {
		return api.Source{}, err
	}
	f.created = append(f.created, ns)
	s := api.Source{
		ID:            "0b7c1e2a-5d4f-4e8a-9c1b-2f3e4d5c6b7a",
		Name:          ns.Name,
		Description:   ns.Description,
		SegmentLength: ns.SegmentLen,
		Streaming:     api.StreamingOff,
		CreatedAt:     testNow,
		UpdatedAt:     testNow,
	}
	if ns.PullURL != "" {
		// As the control node does: masked, bound, streaming from the start.
		s.PullURL, s.Edge, s.RRTarget, s.Streaming = redact.URL(ns.PullURL), cmp.Or(ns.Edge, "cam-gw-1"), cmp.Or(ns.Edge, "cam-gw-1"), api.StreamingOn
	}
	f.sources = append(f.sources, s)
	return s, nil
}

func (f *fakeClient) DeleteSource(_ context.Context, ref string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteSource"); err != nil {
		return err
	}
	i := f.find(ref)
	if i < 0 {
		return notFound()
	}
	f.forced = append(f.forced, force)
	if s := f.sources[i]; f.pushed[s.Name] && !force {
		return &api.StatusError{Status: http.StatusConflict,
			Message: fmt.Sprintf("source %q is still being pushed by edge %q (last segment 1s ago): removed now, its next push would register it again", s.Name, s.Edge),
			Detail:  "stop the push, or `lmx source rm " + s.Name + " --force`"}
	}
	f.sources = slices.Delete(f.sources, i, i+1)
	return nil
}

func (f *fakeClient) SetStreaming(_ context.Context, ref string, on bool) (api.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("SetStreaming"); err != nil {
		return api.Source{}, err
	}
	i := f.find(ref)
	if i < 0 {
		return api.Source{}, notFound()
	}
	f.sources[i].Streaming = api.StreamingOff
	if on {
		f.sources[i].Streaming = api.StreamingOn
	}
	f.polls = 0
	if f.confirmAfter == 0 {
		f.sources[i].EdgeStreaming = on
	}
	return f.sources[i], nil
}

func (f *fakeClient) ListEdges(context.Context) ([]api.Edge, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListEdges"); err != nil {
		return nil, err
	}
	return slices.Clone(f.edges), nil
}

// newFake returns a control node with two sources and two edges:
// camera-0 streams through the online cam-gw-1; camera-1 has no edge yet;
// cam-gw-2 is offline.
func newFake() *fakeClient {
	return &fakeClient{
		sources: []api.Source{
			{
				ID:            "f3a9c2d1-0000-4000-8000-000000000001",
				Name:          "camera-1",
				SegmentLength: 4,
				Streaming:     api.StreamingOff,
				CreatedAt:     testNow.Add(-26 * time.Hour),
				UpdatedAt:     testNow.Add(-3 * time.Hour),
			},
			{
				ID:            "0b7c1e2a-0000-4000-8000-000000000000",
				Name:          "camera-0",
				Description:   "Lobby, north wall",
				SegmentLength: 4,
				Streaming:     api.StreamingOn,
				RRTarget:      "cam-gw-1",
				Edge:          "cam-gw-1",
				EdgeOnline:    true,
				EdgeStreaming: true,
				LocalTime:     testNow.Add(-time.Second),
				CreatedAt:     testNow.Add(-2 * time.Hour),
				UpdatedAt:     testNow.Add(-5 * time.Minute),
				LastSegmentAt: testNow.Add(-2 * time.Second),
				BitrateBPS:    1_234_567,
				LiveSegments:  5,
				PlaybackURL:   "http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8",
			},
		},
		edges: []api.Edge{
			{
				Name:      "cam-gw-2",
				Online:    false,
				Version:   "v0.1.0",
				FirstSeen: testNow.Add(-72 * time.Hour),
				LastSeen:  testNow.Add(-2 * time.Hour),
			},
			{
				Name:       "cam-gw-1",
				Online:     true,
				Version:    "v0.1.0",
				IngestAddr: "10.0.0.5:9080",
				StartedAt:  testNow.Add(-5 * time.Minute),
				FirstSeen:  testNow.Add(-72 * time.Hour),
				LastSeen:   testNow.Add(-time.Second),
				Sources: []api.EdgeSource{{
					Name:            "camera-0",
					Streaming:       true,
					LastSegmentAt:   testNow.Add(-3 * time.Second),
					BitrateBPS:      1_234_567,
					BufferedSeconds: 120,
					BufferedBytes:   18_874_368,
					Uploaded:        42,
					Dropped:         1,
				}},
			},
		},
	}
}

// result is what one run of the command line produced.
type result struct {
	stdout, stderr string
	code           int
}

// testDataDir is where testEnv says a local control node would leave its
// files; none does.
const testDataDir = "/nonexistent/lmx"

// testEnv is an env that hands out fc (or fails the test if a command asks
// for a client when fc is nil) with a frozen clock, fast polling, and no
// control node on this machine.
func testEnv(t *testing.T, fc *fakeClient) env {
	return env{
		newClient: func(connection) (Client, error) {
			if fc == nil {
				t.Error("command asked for a client it should not need")
				return nil, errors.New("no client in this test")
			}
			return fc, nil
		},
		local: func() (string, api.LocalNode, string, error) {
			return testDataDir, api.LocalNode{}, "", fs.ErrNotExist
		},
		timing: Timing{
			Now:    func() time.Time { return testNow },
			Poll:   time.Millisecond,
			Redraw: time.Millisecond,
		},
		isTerminal: func(io.Writer) bool { return false },
	}
}

// runWith runs the command line with args in e until it returns.
func runWith(ctx context.Context, e env, args ...string) result {
	var stdout, stderr bytes.Buffer
	info := BuildInfo{Version: "v1.2.3", Commit: "abc123def456", GoVersion: "go1.26.8", OS: "linux", Arch: "arm64"}
	code := run(ctx, args, &stdout, &stderr, info, e)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// runCLI runs the command line with args against fc.
func runCLI(t *testing.T, fc *fakeClient, args ...string) result {
	t.Helper()
	return runWith(context.Background(), testEnv(t, fc), args...)
}

// wantOK fails the test unless r succeeded with stdout want and no stderr.
func wantOK(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
}

// wantErr fails the test unless r failed with code and stderr "lmx: msg\n".
func wantErr(t *testing.T, r result, code int, msg string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d (stdout %q)", r.code, code, r.stdout)
	}
	if want := "lmx: " + msg + "\n"; r.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
}
