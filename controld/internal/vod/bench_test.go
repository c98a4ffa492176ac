package vod_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/metrics"
	"github.com/lmx-video/lmx/controld/internal/vod"
	"github.com/lmx-video/lmx/sqlstore"
)

// The playback hot path with and without access control: a player's
// requests for the live playlist and a live segment, answered by the real
// handler behind fasthttp's real server, over an in-memory connection
// (fasthttputil.InmemoryListener), so what is measured is the server and
// not the kernel's loopback. The client is one fasthttp.HostClient on one
// kept-alive connection, reusing one request and one response, and
// allocates nothing per request once warm.
//
// Besides ns/op, which is wall time and so grows with whatever else the
// machine runs, each case reports cpu-ns/op: the CPU time the process
// (client, server and the garbage collector) used per request, on Linux.
// On a shared machine it is the steadier of the two.
//
// The cases:
//
//	open    auth off (vod.Guard{}), as --auth none
//	grant   a real auth.Authority on a real store, the request carrying a
//	        grant minted by the admin token (?grant=…)
//	bearer  the same, carrying the admin token (Authorization: Bearer)
//
// The auth cases go through real auth.Gates (limiter and client address),
// wired as controld wires them. The window is the default one (5 segments
// of 2 s). The segment is small (benchSegmentSize), so the cost of a
// request is not buried under copying its body; what access control adds
// per request does not depend on the segment's size.
//
//	go test ./controld/internal/vod -run '^$' -bench 'Live(Playlist|Segment)' -count 6

const (
	benchSourceID    = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	benchSource      = "cam"
	benchSegments    = 5           // controld's default --live-segments
	benchSegmentSize = 64 * 188    // 64 MPEG-TS packets
	benchOrigin      = "*"         // controld's default --cors-origin
	benchClientAddr  = "192.0.2.7" // the player, as the gate sees it
)

func BenchmarkLivePlaylist(b *testing.B) {
	for _, c := range benchCases(b, true) {
		b.Run(c.name, func(b *testing.B) {
			c.run(b, api.LivePlaylistPath(benchSource))
		})
	}
}

func BenchmarkLiveSegment(b *testing.B) {
	for _, c := range benchCases(b, false) {
		b.Run(c.name, func(b *testing.B) {
			c.run(b, api.PathLivePrefix+benchSource+"/"+strconv.FormatUint(c.seq, 10)+".ts")
		})
	}
}

// benchCase is one server and how a player authorises its requests to it.
type benchCase struct {
	name   string
	client *fasthttp.HostClient
	seq    uint64 // a segment its window lists
	query  string // "" or "grant=…"
	bearer string // "" or an API token
}

// benchCases starts a server per case: open and grant, and bearer too when
// withBearer.
func benchCases(b *testing.B, withBearer bool) []benchCase {
	b.Helper()
	open := startBench(b, vod.Guard{})

	a, admin := benchAuthority(b)
	m := metrics.New()
	lim, ips := auth.NewLimiter(auth.LimiterConfig{}), auth.NewClientIP(nil)
	guard := vod.Guard{Access: a,
		Playback: auth.NewGate("playback", lim, ips, m.AuthFailures, m.AuthThrottled),
		Ingest:   auth.NewGate("ingest", lim, ips, m.AuthFailures, m.AuthThrottled)}
	guarded := startBench(b, guard)
	p, err := a.Authenticate(admin)
	if err != nil {
		b.Fatal(err)
	}
	g, _, err := a.MintGrant(p, grant.SourceScope(benchSourceID), time.Hour)
	if err != nil || g == "" {
		b.Fatalf("MintGrant = %q, %v", g, err)
	}

	cases := []benchCase{
		{name: "open", client: open.client, seq: open.seq},
		{name: "grant", client: guarded.client, seq: guarded.seq, query: api.GrantParam + "=" + g},
	}
	if withBearer {
		cases = append(cases, benchCase{name: "bearer", client: guarded.client, seq: guarded.seq, bearer: admin})
	}
	return cases
}

// run requests path as its case says, b.N times.
func (c benchCase) run(b *testing.B, path string) {
	// The response keeps its body buffer: by default each answer's body is
	// read into a buffer from fasthttp's pool, whose size follows what it
	// was used for before (other benchmarks' smaller bodies), so the first
	// runs would count the client growing it.
	req, resp := new(fasthttp.Request), &fasthttp.Response{KeepBodyBuffer: true}
	uri := "http://lmx" + path
	if c.query != "" {
		uri += "?" + c.query
	}
	req.SetRequestURI(uri)
	req.Header.SetMethod(http.MethodGet)
	req.Header.Set("Origin", "https://player.example")
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	// One request outside the loop: the answer is checked, and the
	// connection and the buffers on both sides are warm.
	if err := c.client.Do(req, resp); err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode() != http.StatusOK {
		b.Fatalf("GET %s: %d\n%s", path, resp.StatusCode(), resp.Body())
	}
	if c.query != "" && strings.HasSuffix(path, api.PlaylistName) && !strings.Contains(string(resp.Body()), c.query) {
		b.Fatalf("the playlist does not carry the grant:\n%s", resp.Body())
	}
	size := len(resp.Body())
	b.ReportAllocs()
	cpu0, cpuOK := processCPU()
	for b.Loop() {
		if err := c.client.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode() != http.StatusOK || len(resp.Body()) != size {
			b.Fatalf("GET %s: %d, %d bytes", path, resp.StatusCode(), len(resp.Body()))
		}
	}
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// benchAuthority is an Authority on a store in a temporary directory, and
// the secret of its admin token.
func benchAuthority(b *testing.B) (*auth.Authority, string) {
	b.Helper()
	dir := b.TempDir()
	st, err := sqlstore.Open(b.Context(), filepath.Join(dir, "lmx.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	a, err := auth.New(b.Context(), auth.Config{DataDir: dir}, st, logger())
	if err != nil {
		b.Fatal(err)
	}
	path, created, err := a.EnsureAdmin(b.Context())
	if err != nil || !created {
		b.Fatalf("EnsureAdmin = %v, %v", created, err)
	}
	tok, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return a, strings.TrimSpace(string(tok))
}

// benchNode is a server with a full live window, on an in-memory listener.
type benchNode struct {
	client *fasthttp.HostClient
	seq    uint64 // the window's newest segment
}

func startBench(b *testing.B, guard vod.Guard) benchNode {
	b.Helper()
	reg := live.New(live.Config{Segments: benchSegments, MemoryLimit: 256 << 20}, live.Gauges{}, logger())
	var seq uint64
	seg := make([]byte, benchSegmentSize)
	for i := range seg {
		seg[i] = byte(i)
	}
	for i := range benchSegments + 2 {
		var err error
		seq, err = reg.Append(benchSourceID, benchSource, 2, live.Arrival{Edge: "edge-1", Boot: "b", EdgeSeq: uint64(i + 1), Duration: 2, Start: time.Now()}, seg)
		if err != nil {
			b.Fatal(err)
		}
	}
	sources := &fakeSources{srcs: map[string]sqlstore.Source{benchSource: {ID: benchSourceID, Name: benchSource, Streaming: true}}}
	srv := vod.New(vod.Config{CORSOrigin: benchOrigin}, reg, sources, &fakeRecordings{}, &fakeIngest{}, guard, metrics.New(), logger())
	ln := fasthttputil.NewInmemoryListener()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	player := &net.TCPAddr{IP: net.ParseIP(benchClientAddr), Port: 50123}
	client := &fasthttp.HostClient{
		Addr:     "lmx",
		MaxConns: 1,
		Dial:     func(string) (net.Conn, error) { return ln.DialWithLocalAddr(player) },
	}
	b.Cleanup(func() {
		client.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			b.Errorf("Shutdown: %v", err)
		}
		ln.Close()
		if err := <-served; err != nil {
			b.Errorf("Serve: %v", err)
		}
	})
	return benchNode{client: client, seq: seq}
}
