package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// ---------------------------------------------------------------------------
// scale: many live sources through real edges, many players on the control node
//
// Pre-encoded MPEG-TS segments (ffmpeg's HLS output, with its index.m3u8) are
// replayed at real time for N sources: one pusher goroutine per source does
// what ffmpeg's HLS muxer does with LiveMix's flags (-hls_time, -hls_list_size
// 5, -hls_flags delete_segments+independent_segments, -method POST to the
// edge): it writes the next segment file under a new name, deletes the one
// that left the list and the delete threshold, and POSTs the rolling playlist
// (chunked, on a new connection, as ffmpeg does without -http_persistent) with
// the Video-Source-Name and MPEG-TS-URI-Prefix headers. Streaming is turned on
// for every source once its first push registered it.
//
// P players, spread evenly across the sources, then follow the control
// node's live playlists as HLS players do: one keep-alive connection each,
// the playlist once per target duration (start phases spread over -ramp),
// every new segment once, read to its end, starting three segments from the
// live edge. A player misses a segment when the playlist it fetches no longer
// lists the next sequence it expected; every such sequence counts.
//
// After -warmup, the counters, the CPU time of the control node, the edges,
// this process and the whole machine, and the control node's memory are
// taken, again after -for; the differences are printed as KEY=value lines.

func cmdScale(args []string) error {
	fs := flag.NewFlagSet("scale", flag.ExitOnError)
	edgeList := fs.String("edges", "", "comma-separated edge base URLs")
	dirList := fs.String("dirs", "", "comma-separated segment directories, one per edge (an --allow-dir of it)")
	api := fs.String("api", "", "management API base URL (serves /metrics too)")
	vod := fs.String("vod", "", "playback base URL")
	media := fs.String("media", "", "directory with the pre-encoded segments and ffmpeg's index.m3u8 for them")
	nSources := fs.Int("sources", 100, "sources")
	nPlayers := fs.Int("players", 1000, "players, spread evenly across the sources")
	prefix := fs.String("prefix", "scale", "source names are PREFIX000, PREFIX001, ...")
	window := fs.Int("window", 5, "segments in a pushed playlist (ffmpeg's -hls_list_size)")
	startBack := fs.Int("start-back", 3, "a player starts this many segments from the live edge")
	ramp := fs.Duration("ramp", 10*time.Second, "players start at random times over this long")
	warm := fs.Duration("warmup", 30*time.Second, "from the first player's start to the measured period")
	dur := fs.Duration("for", 5*time.Minute, "measured period")
	timeout := fs.Duration("timeout", 10*time.Second, "a player's request timeout")
	controldPID := fs.Int("controld", 0, "control node pid")
	edgePIDs := fs.String("edge-pids", "", "comma-separated edge pids")
	midCmd := fs.String("mid-cmd", "", "shell command run in the middle of the measured period (e.g. a 30 s profile)")
	midLen := fs.Duration("mid-len", 30*time.Second, "how long -mid-cmd runs, to centre it")
	raw := fs.String("raw", "", "path prefix for raw files (per-second series, smaps_rollup, error samples)")
	_ = fs.Parse(args)

	edges := splitList(*edgeList)
	dirs := splitList(*dirList)
	if len(edges) == 0 || len(edges) != len(dirs) {
		return errors.New("scale: -edges and -dirs must name the same number of edges")
	}
	if *nSources < 1 || *nPlayers < 0 || *controldPID == 0 {
		return errors.New("scale: -sources ≥ 1, -players ≥ 0 and -controld are required")
	}
	var epids []int
	for _, s := range splitList(*edgePIDs) {
		p, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("scale: -edge-pids: %w", err)
		}
		epids = append(epids, p)
	}
	m, err := loadMedia(*media)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "scale: %d pre-encoded segments of %.0f bytes on average (%.2f Mbit/s), target duration %d s\n",
		len(m.segs), m.meanBytes(), m.bitrate()/1e6, m.target)

	st := newScaleStats()
	// TERM or Ctrl-C from bench/run.sh ends the run and the mid-run command.
	sigCtx, sigStop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer sigStop()
	ctx, cancel := context.WithCancel(sigCtx)
	defer cancel()

	// Sources: source i goes to edge i mod E, and its pushes start at an
	// even offset within one segment duration (cameras are not in step).
	apiClient := &http.Client{Timeout: 10 * time.Second}
	srcs := make([]*livePusher, *nSources)
	ready := make(chan error, *nSources)
	t0 := time.Now().Add(200 * time.Millisecond)
	var pushWG sync.WaitGroup
	for i := range srcs {
		e := i % len(edges)
		name := fmt.Sprintf("%s%03d", *prefix, i)
		d := filepath.Join(dirs[e], name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		p := &livePusher{name: name, edge: edges[e], dir: d, media: m, window: *window, keep: *window + 1, st: st,
			// ffmpeg opens a new connection for every playlist it writes
			// unless -http_persistent 1 is given.
			hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
		srcs[i] = p
		off := time.Duration(float64(i) / float64(*nSources) * m.durs[0] * float64(time.Second))
		pushWG.Add(1)
		go func() {
			defer pushWG.Done()
			p.run(ctx, t0.Add(off), func() { ready <- p.setUp(apiClient, *api, *vod) })
		}()
	}
	deadline := time.After(90 * time.Second)
	for n := 0; n < *nSources; n++ {
		select {
		case err := <-ready:
			if err != nil {
				return err
			}
		case <-deadline:
			return fmt.Errorf("scale: only %d of %d sources were streaming with a live playlist after 90 s", n, *nSources)
		}
	}
	fmt.Fprintf(os.Stderr, "scale: %d sources streaming through %d edges after %s; starting %d players over %s\n",
		*nSources, len(edges), time.Since(t0).Round(100*time.Millisecond), *nPlayers, *ramp)

	var playWG sync.WaitGroup
	for j := range *nPlayers {
		src := srcs[j%*nSources]
		pl := newPlayer(j, *vod+"/v1/vod/live/"+src.name+"/", src.name, *startBack, *timeout, st)
		delay := time.Duration(rand.Int64N(int64(max(*ramp, time.Millisecond))))
		playWG.Add(1)
		go func() {
			defer playWG.Done()
			pl.run(ctx, delay)
		}()
	}
	if !sleepCtx(ctx, *warm) {
		return errors.New("scale: interrupted")
	}

	// The measured period.
	procs := []*procWatch{{name: "controld", pids: []int{*controldPID}}, {name: "edges", pids: epids}, {name: "lmxbench", pids: []int{os.Getpid()}}}
	metricsURL := *api + "/metrics"
	prom0, promErr0 := scrape(apiClient, metricsURL)
	edge0 := edgeTotals(apiClient, edges)
	mem0 := readProcMem(*controldPID)
	cg0, cgFile := cgroupMemory()
	load0 := loadAvg()
	snap0 := st.snapshot()
	for _, p := range procs {
		p.start()
	}
	mp0, _, mb0, _ := machineTicks()
	tm0 := time.Now()
	st.measuring.Store(true)
	writeRaw(*raw, "controld-smaps-start.txt", mem0.rollup)
	fmt.Fprintf(os.Stderr, "scale: measuring for %s (control node RSS %d kB, Pss_Shmem %d kB)\n", *dur, mem0.rssKB, mem0.smaps["Pss_Shmem"])

	// Per-second series and progress.
	sctx, scancel := context.WithCancel(ctx)
	sampled := make(chan sampleSummary, 1)
	go func() { sampled <- sampleScale(sctx, *raw, *controldPID, procs, st, tm0) }()

	// The mid-run command (a profile), centred in the measured period.
	midRC := -1
	midDone := make(chan struct{})
	if *midCmd != "" {
		go func() {
			defer close(midDone)
			if !sleepCtx(ctx, max(*dur/2-*midLen/2, 0)) {
				return
			}
			fmt.Fprintf(os.Stderr, "scale: running %s\n", *midCmd)
			c := exec.CommandContext(ctx, "sh", "-c", *midCmd)
			c.Stdout, c.Stderr = os.Stderr, os.Stderr
			// Its own process group, stopped as a whole when the run ends early.
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGTERM) }
			if err := c.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					midRC = ee.ExitCode()
				} else {
					fmt.Fprintln(os.Stderr, "scale: mid-cmd:", err)
				}
				return
			}
			midRC = 0
		}()
	} else {
		close(midDone)
	}

	if !sleepCtx(ctx, *dur) {
		scancel()
		<-midDone
		return errors.New("scale: interrupted")
	}
	st.measuring.Store(false)
	snap1 := st.snapshot()
	for _, p := range procs {
		p.stop()
	}
	mp1, _, mb1, _ := machineTicks()
	wall := time.Since(tm0).Seconds()
	mem1 := readProcMem(*controldPID)
	cg1, _ := cgroupMemory()
	load1 := loadAvg()
	edge1 := edgeTotals(apiClient, edges)
	prom1, promErr1 := scrape(apiClient, metricsURL)
	writeRaw(*raw, "controld-smaps-end.txt", mem1.rollup)
	scancel()
	ss := <-sampled
	<-midDone
	cancel()
	playWG.Wait()
	pushWG.Wait()

	d := snap1.sub(snap0)
	out := &kvOut{}
	segDur := m.meanDur()
	out.add("SOURCES", *nSources)
	out.add("PLAYERS", *nPlayers)
	out.add("EDGES", len(edges))
	out.add("WARMUP_S", warm.Seconds())
	out.add("WALL_S", fmt.Sprintf("%.1f", wall))
	out.add("MEDIA_SEGMENTS", len(m.segs))
	out.add("MEDIA_SEG_BYTES_MEAN", fmt.Sprintf("%.0f", m.meanBytes()))
	out.add("MEDIA_SEG_DURATION_S", fmt.Sprintf("%.3f", segDur))
	out.add("MEDIA_MBPS", fmt.Sprintf("%.3f", m.bitrate()/1e6))
	// Players: what they fetched, and what went wrong.
	expected := float64(*nPlayers) * wall / segDur
	out.add("PLAYLISTS", d.playlists)
	out.add("PLAYLIST_BYTES", d.plBytes)
	out.add("SEGMENTS", d.segments)
	out.add("SEGMENTS_EXPECTED", fmt.Sprintf("%.0f", expected))
	out.add("SEGMENT_BYTES", d.segBytes)
	out.add("SERVED_MB_PER_S", fmt.Sprintf("%.1f", float64(d.segBytes+d.plBytes)/1e6/wall))
	out.add("PLAYLISTS_PER_S", fmt.Sprintf("%.1f", float64(d.playlists)/wall))
	out.add("SEGMENTS_PER_S", fmt.Sprintf("%.1f", float64(d.segments)/wall))
	non200, transport := sumMap(d.codes), sumMap(d.terrs)
	out.add("NON200", non200)
	out.add("NON200_DETAIL", mapDetail(d.codes))
	out.add("TRANSPORT_ERRORS", transport)
	out.add("TRANSPORT_DETAIL", mapDetail(d.terrs))
	out.add("MISSES", d.misses)
	out.add("MISS_EVENTS", d.missEvents)
	out.add("VIEWERS_MISSING", len(ss.missViewers))
	out.add("STALE_PLAYLISTS", d.stale)
	out.add("DISCONTINUITIES", d.disc)
	out.add("CONNS_OPENED", d.conns)
	out.add("CONNS_TOTAL", snap1.conns)
	out.add("PUSHES", d.pushes)
	out.add("PUSH_ERRORS", sumMap(d.pushErrs))
	out.add("PUSH_DETAIL", mapDetail(d.pushErrs))
	out.add("ERRORS", non200+transport+sumMap(d.pushErrs))
	out.add("WARMUP_ERRORS", sumMap(snap0.codes)+sumMap(snap0.terrs)+sumMap(snap0.pushErrs))
	out.add("WARMUP_MISSES", snap0.misses)
	lat := ss.segLat
	slices.Sort(lat)
	for _, q := range []float64{50, 90, 99} {
		out.add(fmt.Sprintf("SEG_FETCH_P%.0f_MS", q), ms(pct(lat, q)))
	}
	if len(lat) > 0 {
		out.add("SEG_FETCH_MAX_MS", ms(lat[len(lat)-1]))
	}
	out.add("SEG_LATE", d.late)
	pl := ss.plLat
	slices.Sort(pl)
	out.add("PLAYLIST_FETCH_P99_MS", ms(pct(pl, 99)))
	pu := ss.pushLat
	slices.Sort(pu)
	out.add("PUSH_P50_MS", ms(pct(pu, 50)))
	out.add("PUSH_P99_MS", ms(pct(pu, 99)))
	// The edges: what they uploaded and dropped in the measured period.
	out.add("EDGE_UPLOADED", edge1.uploaded-edge0.uploaded)
	out.add("EDGE_DROPPED", edge1.dropped-edge0.dropped)
	out.add("EDGE_STATUS_ERRORS", edge0.errs+edge1.errs)
	// The control node's counters.
	if promErr0 == nil && promErr1 == nil {
		for _, n := range []string{"lmx_segments_in_total", "lmx_segments_served_total", "lmx_playlists_served_total", "lmx_cache_hits_total", "lmx_cache_misses_total", "lmx_cache_rejections_total", "lmx_segments_dropped_total"} {
			out.add("CONTROLD_"+strings.ToUpper(strings.TrimPrefix(n, "lmx_")), fmt.Sprintf("%.0f", prom1.sum(n)-prom0.sum(n)))
		}
	} else {
		out.add("CONTROLD_METRICS", fmt.Sprintf("unreadable (%v %v)", promErr0, promErr1))
	}
	// Memory.
	out.add("CONTROLD_RSS_START_KB", mem0.rssKB)
	out.add("CONTROLD_RSS_END_KB", mem1.rssKB)
	out.add("CONTROLD_RSS_PEAK_SAMPLED_KB", ss.rssPeakKB)
	out.add("CONTROLD_VMHWM_KB", mem1.hwmKB)
	for _, k := range []string{"Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem"} {
		out.add("CONTROLD_SMAPS_START_"+strings.ToUpper(k)+"_KB", mem0.smaps[k])
		out.add("CONTROLD_SMAPS_END_"+strings.ToUpper(k)+"_KB", mem1.smaps[k])
	}
	out.add("CONTROLD_RSSSHMEM_START_KB", mem0.status["RssShmem"])
	out.add("CONTROLD_RSSSHMEM_END_KB", mem1.status["RssShmem"])
	out.add("CONTROLD_RSSANON_END_KB", mem1.status["RssAnon"])
	out.add("CGROUP_MEM_FILE", cgFile)
	out.add("CGROUP_MEM_START_BYTES", cg0)
	out.add("CGROUP_MEM_END_BYTES", cg1)
	var erss, erssMax int64
	for _, p := range epids {
		r, _, _ := readRSS(p)
		erss += r
		erssMax = max(erssMax, r)
	}
	out.add("EDGES_RSS_END_KB", erss)
	out.add("EDGE_RSS_MAX_KB", erssMax)
	// CPU over the measured period, in % of one CPU.
	var ours float64
	for _, p := range procs {
		s := p.seconds()
		ours += s
		pctv := s / wall * 100
		up := strings.ToUpper(p.name)
		out.add("CPU_"+up+"_S", fmt.Sprintf("%.1f", s))
		out.add("CPU_"+up+"_PCT", fmt.Sprintf("%.1f", pctv))
		if *nPlayers > 0 {
			out.add("CPU_"+up+"_PER100_PCT", fmt.Sprintf("%.2f", pctv/float64(*nPlayers)*100))
		}
		out.add("CPU_"+up+"_PER_SOURCE_PCT", fmt.Sprintf("%.3f", pctv/float64(*nSources)))
	}
	pcT := func(t int64) float64 { return float64(t) / clkTck / wall * 100 }
	out.add("MACHINE_BUSY_PCT", fmt.Sprintf("%.1f", pcT(mb1-mb0)))
	out.add("MACHINE_CPUS", nproc())
	out.add("OTHER_CPU_PCT", fmt.Sprintf("%.1f", math.Max(pcT(mp1-mp0)-ours/wall*100, 0)))
	out.add("LOADAVG_START", load0)
	out.add("LOADAVG_END", load1)
	out.add("MID_CMD_RC", midRC)
	out.print(os.Stdout)
	if *raw != "" {
		writeRaw(*raw, "errors.txt", []byte(st.samples()))
	}
	fmt.Fprintf(os.Stderr, "scale: %d playlists, %d segments (%.0f expected), %d non-200, %d transport errors, %d misses, %d push errors; controld CPU %.1f %%, RSS %d → %d kB\n",
		d.playlists, d.segments, expected, non200, transport, d.misses, sumMap(d.pushErrs), procs[0].seconds()/wall*100, mem0.rssKB, mem1.rssKB)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// The pre-encoded media

type scaleMedia struct {
	segs   [][]byte
	durs   []float64
	target int
}

func loadMedia(dir string) (*scaleMedia, error) {
	f, err := os.Open(filepath.Join(dir, "index.m3u8"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pl, err := hls.ParseMediaPlaylist(f, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("%s/index.m3u8: %w", dir, err)
	}
	m := &scaleMedia{target: pl.TargetDuration}
	for _, s := range pl.Segments {
		b, err := os.ReadFile(filepath.Join(dir, s.URI))
		if err != nil {
			return nil, err
		}
		m.segs = append(m.segs, b)
		m.durs = append(m.durs, s.Duration)
	}
	if len(m.segs) == 0 || m.target < 1 {
		return nil, fmt.Errorf("%s/index.m3u8 lists no segments", dir)
	}
	return m, nil
}

func (m *scaleMedia) meanBytes() float64 {
	var n int
	for _, s := range m.segs {
		n += len(s)
	}
	return float64(n) / float64(len(m.segs))
}

func (m *scaleMedia) meanDur() float64 {
	var d float64
	for _, x := range m.durs {
		d += x
	}
	return d / float64(len(m.durs))
}

func (m *scaleMedia) bitrate() float64 { return m.meanBytes() * 8 / m.meanDur() }

// ---------------------------------------------------------------------------
// One source, pushed as ffmpeg's HLS muxer does

type livePusher struct {
	name, edge, dir string
	media           *scaleMedia
	window, keep    int
	hc              *http.Client
	st              *scaleStats
}

func (p *livePusher) fileName(k int) string { return fmt.Sprintf("%s-%06d.ts", p.name, k) }

func (p *livePusher) dur(k int) float64 { return p.media.durs[k%len(p.media.durs)] }

// playlist is what ffmpeg writes with -hls_list_size WINDOW and
// -hls_flags independent_segments once segment last is complete.
func (p *livePusher) playlist(last int) []byte {
	first := max(0, last-p.window+1)
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n", p.media.target, first)
	for j := first; j <= last; j++ {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n", p.dur(j), p.fileName(j))
	}
	return b.Bytes()
}

// run pushes segment k at start + the durations of segments 0..k-1 (late
// pushes go at once; none is skipped), and calls first after the first
// push that the edge accepted.
func (p *livePusher) run(ctx context.Context, start time.Time, first func()) {
	at := start
	called := false
	for k := 0; ctx.Err() == nil; k++ {
		if !sleepUntil(ctx, at) {
			return
		}
		at = at.Add(time.Duration(p.dur(k) * float64(time.Second)))
		// ffmpeg: the segment is complete; with delete_segments it removes
		// the file that is now hls_delete_threshold (1) beyond the list,
		// then writes the playlist.
		if err := os.WriteFile(filepath.Join(p.dir, p.fileName(k)), p.media.segs[k%len(p.media.segs)], 0o644); err != nil {
			p.st.pushFail("write", 0, err)
			continue
		}
		if old := k - p.keep; old >= 0 {
			_ = os.Remove(filepath.Join(p.dir, p.fileName(old)))
		}
		ok := p.push(ctx, k)
		if ok && !called {
			called = true
			go first()
		}
	}
}

func (p *livePusher) push(ctx context.Context, last int) bool {
	// A body of unknown length goes out chunked, as ffmpeg's POST does.
	body := struct{ io.Reader }{bytes.NewReader(p.playlist(last))}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.edge+"/v1/playlist", body)
	if err != nil {
		return false
	}
	req.Header.Set("Video-Source-Name", p.name)
	req.Header.Set("MPEG-TS-URI-Prefix", "file://"+p.dir+"/")
	req.Header.Set("Content-Type", "application/vnd.apple.mpegurl")
	t := time.Now()
	resp, err := p.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			p.st.pushFail("push", 0, err)
		}
		return false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p.st.pushes.Add(1)
	if resp.StatusCode != http.StatusOK {
		p.st.pushFail("push", resp.StatusCode, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b)))
		return false
	}
	p.st.pushDone(time.Since(t))
	return true
}

// setUp turns streaming on for the source and waits until the control node
// serves a live playlist for it.
func (p *livePusher) setUp(hc *http.Client, api, vod string) error {
	if err := streamOn(hc, api, p.name, 60*time.Second); err != nil {
		return err
	}
	url := vod + "/v1/vod/live/" + p.name + "/vid.m3u8"
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, b, err := get(hc, url)
		if err == nil && code == 200 && bytes.Count(b, []byte("#EXTINF")) >= 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no live playlist for %s after 60 s (last %d %v)", p.name, code, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	return sleepCtx(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ---------------------------------------------------------------------------
// One player

type player struct {
	id        int
	base      string // the playlist's directory URL, ending in /
	source    string
	startBack int
	hc        *http.Client
	buf       []byte
	st        *scaleStats
}

func newPlayer(id int, base, source string, startBack int, timeout time.Duration, st *scaleStats) *player {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		// One keep-alive connection, as a player on its own device has.
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ReadBufferSize:      64 << 10,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			st.conns.Add(1)
			return d.DialContext(ctx, network, addr)
		},
	}
	return &player{id: id, base: base, source: source, startBack: startBack, st: st, buf: make([]byte, 64<<10),
		hc: &http.Client{Timeout: timeout, Transport: tr}}
}

func (p *player) run(ctx context.Context, delay time.Duration) {
	if !sleepCtx(ctx, delay) {
		return
	}
	var next uint64
	started := false
	target := 2 * time.Second
	for ctx.Err() == nil {
		t := time.Now()
		pl := p.playlist(ctx)
		got := time.Now()
		if ctx.Err() != nil {
			return
		}
		if pl != nil && len(pl.Segments) > 0 {
			if pl.TargetDuration > 0 {
				target = time.Duration(pl.TargetDuration) * time.Second
			}
			first := pl.MediaSequence
			last := first + uint64(len(pl.Segments)) - 1
			if !started {
				started = true
				next = first
				if n := uint64(p.startBack); last+1 > first+n {
					next = last + 1 - n
				}
			}
			switch {
			case next < first:
				p.st.miss(p.id, first-next)
				next = first
			case next > last+1:
				// An older playlist than one seen before.
				p.st.stale.Add(1)
			}
			for ; next <= last && ctx.Err() == nil; next++ {
				s := pl.Segments[next-first]
				if s.Discontinuity {
					p.st.discontinuity(p.source, next)
				}
				// For the error samples: where the playlist listed it, and when.
				where := func() string {
					return fmt.Sprintf("(sequence %d, listed %d of %d in the playlist received %s before)",
						next, next-first+1, len(pl.Segments), time.Since(got).Round(time.Millisecond))
				}
				p.segment(ctx, s.URI, s.Duration, where)
			}
		}
		// Once per target duration; at once when the segments took longer.
		if !sleepUntil(ctx, t.Add(target)) {
			return
		}
	}
}

func (p *player) playlist(ctx context.Context) *hls.MediaPlaylist {
	t := time.Now()
	code, b, err := p.get(ctx, p.base+"vid.m3u8")
	if err == nil && code != 200 {
		err = fmt.Errorf("%d %svid.m3u8: %s", code, p.base, bytes.TrimSpace(b[:min(len(b), 512)]))
	}
	if err != nil || code != 200 {
		if ctx.Err() == nil {
			p.st.fail("playlist", code, err)
		}
		return nil
	}
	pl, err := hls.ParseMediaPlaylist(bytes.NewReader(b), 1<<20)
	if err != nil {
		p.st.fail("playlist", 0, fmt.Errorf("unparsable: %w", err))
		return nil
	}
	p.st.playlists.Add(1)
	p.st.plBytes.Add(int64(len(b)))
	p.st.latency(&p.st.plLat, time.Since(t))
	return pl
}

func (p *player) segment(ctx context.Context, uri string, dur float64, where func() string) {
	url := uri
	if !strings.Contains(uri, "://") {
		url = p.base + uri
	}
	t := time.Now()
	code, n, err := p.getCount(ctx, url)
	if err != nil || code != 200 {
		if ctx.Err() == nil {
			p.st.fail("segment", code, fmt.Errorf("%w %s", err, where()))
		}
		return
	}
	d := time.Since(t)
	p.st.segments.Add(1)
	p.st.segBytes.Add(n)
	p.st.latency(&p.st.segLat, d)
	if d.Seconds() > dur {
		p.st.late.Add(1)
	}
}

var errShortBody = errors.New("body shorter than its Content-Length")

// get returns the whole answer.
func (p *player) get(ctx context.Context, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.ContentLength >= 0 && int64(len(b)) != resp.ContentLength {
		err = errShortBody
	}
	return resp.StatusCode, b, err
}

// getCount reads the answer to its end into the player's buffer and
// returns its length.
func (p *player) getCount(ctx context.Context, url string) (int, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// What the server said, for the error samples.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, 0, fmt.Errorf("%s %s: %s", resp.Status, url, bytes.TrimSpace(b))
	}
	var n int64
	for {
		k, err := resp.Body.Read(p.buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return resp.StatusCode, n, err
		}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return resp.StatusCode, n, errShortBody
	}
	return resp.StatusCode, n, nil
}

// ---------------------------------------------------------------------------
// Counters

type scaleStats struct {
	measuring atomic.Bool

	playlists, plBytes, segments, segBytes atomic.Int64
	misses, missEvents, stale, late, conns atomic.Int64
	pushes                                 atomic.Int64

	mu          sync.Mutex
	codes       map[string]int64 // "segment 404"
	terrs       map[string]int64 // "segment timeout"
	pushErrs    map[string]int64 // "push 503", "push reset"
	discs       map[string]bool  // source/seq of every discontinuity seen
	missViewers map[int]bool     // while measuring
	segLat      []time.Duration  // while measuring
	plLat       []time.Duration
	pushLat     []time.Duration
	errSamples  map[string][]string // the first messages of each kind
}

type scaleSnap struct {
	playlists, plBytes, segments, segBytes int64
	misses, missEvents, stale, late, conns int64
	pushes, disc                           int64
	codes, terrs, pushErrs                 map[string]int64
}

func newScaleStats() *scaleStats {
	return &scaleStats{codes: map[string]int64{}, terrs: map[string]int64{}, pushErrs: map[string]int64{},
		discs: map[string]bool{}, missViewers: map[int]bool{}, errSamples: map[string][]string{}}
}

func (s *scaleStats) snapshot() scaleSnap {
	s.mu.Lock()
	defer s.mu.Unlock()
	return scaleSnap{
		playlists: s.playlists.Load(), plBytes: s.plBytes.Load(), segments: s.segments.Load(), segBytes: s.segBytes.Load(),
		misses: s.misses.Load(), missEvents: s.missEvents.Load(), stale: s.stale.Load(), late: s.late.Load(), conns: s.conns.Load(),
		pushes: s.pushes.Load(), disc: int64(len(s.discs)),
		codes: copyMap(s.codes), terrs: copyMap(s.terrs), pushErrs: copyMap(s.pushErrs),
	}
}

func copyMap(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (a scaleSnap) sub(b scaleSnap) scaleSnap {
	d := func(x, y map[string]int64) map[string]int64 {
		out := map[string]int64{}
		for k, v := range x {
			if v-y[k] != 0 {
				out[k] = v - y[k]
			}
		}
		return out
	}
	return scaleSnap{
		playlists: a.playlists - b.playlists, plBytes: a.plBytes - b.plBytes, segments: a.segments - b.segments, segBytes: a.segBytes - b.segBytes,
		misses: a.misses - b.misses, missEvents: a.missEvents - b.missEvents, stale: a.stale - b.stale, late: a.late - b.late, conns: a.conns - b.conns,
		pushes: a.pushes - b.pushes, disc: a.disc - b.disc,
		codes: d(a.codes, b.codes), terrs: d(a.terrs, b.terrs), pushErrs: d(a.pushErrs, b.pushErrs),
	}
}

// fail counts a non-200 answer (code > 0) or a transport error of a kind
// of request ("playlist", "segment").
func (s *scaleStats) fail(kind string, code int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var key string
	if code != 0 && code != 200 {
		key = kind + " " + strconv.Itoa(code)
		s.codes[key]++
	} else {
		key = kind + " " + errClass(err)
		s.terrs[key]++
	}
	s.sample(key, err)
}

func (s *scaleStats) pushFail(kind string, code int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := kind + " " + errClass(err)
	if code != 0 {
		key = kind + " " + strconv.Itoa(code)
	}
	s.pushErrs[key]++
	s.sample(key, err)
}

// sample keeps the first few messages of each kind of error, in the
// warm-up and in the measured period.
func (s *scaleStats) sample(key string, err error) {
	if s.measuring.Load() {
		key += " (measured)"
	}
	if err != nil && len(s.errSamples[key]) < 5 {
		s.errSamples[key] = append(s.errSamples[key], time.Now().Format("15:04:05.000")+" "+strings.Join(strings.Fields(err.Error()), " "))
	}
}

func (s *scaleStats) samples() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.errSamples))
	for k := range s.errSamples {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, m := range s.errSamples[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, m)
		}
	}
	return b.String()
}

func (s *scaleStats) miss(viewer int, n uint64) {
	s.misses.Add(int64(n))
	s.missEvents.Add(1)
	if s.measuring.Load() {
		s.mu.Lock()
		s.missViewers[viewer] = true
		s.mu.Unlock()
	}
}

func (s *scaleStats) discontinuity(source string, seq uint64) {
	s.mu.Lock()
	s.discs[source+"/"+strconv.FormatUint(seq, 10)] = true
	s.mu.Unlock()
}

func (s *scaleStats) latency(into *[]time.Duration, d time.Duration) {
	if !s.measuring.Load() {
		return
	}
	s.mu.Lock()
	*into = append(*into, d)
	s.mu.Unlock()
}

func (s *scaleStats) pushDone(d time.Duration) { s.latency(&s.pushLat, d) }

func errClass(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "error"
	case errors.Is(err, errShortBody):
		return "short-body"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case strings.HasPrefix(err.Error(), "unparsable"):
		return "unparsable"
	default:
		return "other"
	}
}

func sumMap(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// mapDetail is "k1:v1, k2:v2" sorted by key, or "none".
func mapDetail(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------------------
// Processes, memory and the machine

// procWatch accounts the CPU time of a set of processes (and their threads).
type procWatch struct {
	name     string
	pids     []int
	t0, t1   int64
	finished bool
}

func (p *procWatch) start() { p.t0 = ticksOf(p.pids) }
func (p *procWatch) stop()  { p.t1, p.finished = ticksOf(p.pids), true }

func (p *procWatch) seconds() float64 { return float64(p.t1-p.t0) / clkTck }

type procMem struct {
	rssKB, hwmKB int64
	status       map[string]int64 // kB fields of /proc/PID/status
	smaps        map[string]int64 // kB fields of /proc/PID/smaps_rollup
	rollup       []byte
}

func kbFields(b []byte) map[string]int64 {
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "kB" {
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				out[strings.TrimSuffix(f[0], ":")] = v
			}
		}
	}
	return out
}

func readProcMem(pid int) procMem {
	var m procMem
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		m.status = kbFields(b)
		m.rssKB, m.hwmKB = m.status["VmRSS"], m.status["VmHWM"]
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		m.rollup = b
		m.smaps = kbFields(b)
	}
	return m
}

// cgroupMemory is the memory the cgroup this runs in uses (v2
// memory.current, else v1 memory.usage_in_bytes), and the file read.
func cgroupMemory() (int64, string) {
	for _, f := range []string{"/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory/memory.usage_in_bytes"} {
		if b, err := os.ReadFile(f); err == nil {
			if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
				return v, f
			}
		}
	}
	return -1, "none"
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "NA"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "NA"
	}
	return strings.Join(f[:3], "/")
}

func nproc() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if len(line) > 3 && strings.HasPrefix(line, "cpu") && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return n
}

type edgeSum struct{ uploaded, dropped, errs int64 }

func edgeTotals(hc *http.Client, edges []string) edgeSum {
	var s edgeSum
	for _, e := range edges {
		code, b, err := get(hc, e+"/v1/status")
		if err != nil || code != 200 {
			s.errs++
			continue
		}
		var m struct {
			Status struct {
				Sources []struct {
					Uploaded uint64 `json:"uploaded"`
					Dropped  uint64 `json:"dropped"`
				} `json:"sources"`
			} `json:"status"`
		}
		if json.Unmarshal(b, &m) != nil {
			s.errs++
			continue
		}
		for _, src := range m.Status.Sources {
			s.uploaded += int64(src.Uploaded)
			s.dropped += int64(src.Dropped)
		}
	}
	return s
}

// sum adds every series of metric name (all label sets).
func (m promText) sum(name string) float64 {
	var v float64
	for k, x := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			v += x
		}
	}
	return v
}

type sampleSummary struct {
	rssPeakKB              int64
	segLat, plLat, pushLat []time.Duration
	missViewers            map[int]bool
}

// sampleScale writes one line per second (RSS and CPU of the control node,
// CPU of the edges, of lmxbench and of the machine, requests and errors)
// and a progress line every 10 s, until ctx ends.
func sampleScale(ctx context.Context, raw string, pid int, procs []*procWatch, st *scaleStats, t0 time.Time) sampleSummary {
	var w io.Writer = io.Discard
	if raw != "" {
		if f, err := os.Create(raw + "series.txt"); err == nil {
			defer f.Close()
			w = f
		}
	}
	fmt.Fprintln(w, "# t_s controld_rss_kb controld_cpu_pct edges_cpu_pct lmxbench_cpu_pct machine_busy_pct playlists_per_s segments_per_s errors misses")
	var sum sampleSummary
	prevT := time.Now()
	prev := make([]int64, len(procs))
	for i, p := range procs {
		prev[i] = ticksOf(p.pids)
	}
	_, _, prevB, _ := machineTicks()
	prevS := st.snapshot()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			st.mu.Lock()
			sum.segLat, sum.plLat, sum.pushLat = st.segLat, st.plLat, st.pushLat
			sum.missViewers = st.missViewers
			st.mu.Unlock()
			return sum
		case <-tick.C:
		}
		n++
		now := time.Now()
		secs := now.Sub(prevT).Seconds()
		rss, _, _ := readRSS(pid)
		sum.rssPeakKB = max(sum.rssPeakKB, rss)
		cpu := make([]float64, len(procs))
		for i, p := range procs {
			t := ticksOf(p.pids)
			cpu[i] = float64(t-prev[i]) / clkTck / secs * 100
			prev[i] = t
		}
		_, _, b, _ := machineTicks()
		busy := float64(b-prevB) / clkTck / secs * 100
		prevB = b
		s := st.snapshot()
		d := s.sub(prevS)
		prevS = s
		errs := sumMap(d.codes) + sumMap(d.terrs) + sumMap(d.pushErrs)
		fmt.Fprintf(w, "%.1f %d %.1f %.1f %.1f %.1f %.1f %.1f %d %d\n", now.Sub(t0).Seconds(), rss, cpu[0], cpu[1], cpu[2], busy,
			float64(d.playlists)/secs, float64(d.segments)/secs, errs, d.misses)
		prevT = now
		if n%10 == 0 {
			tot := s
			fmt.Fprintf(os.Stderr, "scale: %3.0fs: controld RSS %d kB, CPU controld %.0f %% edges %.0f %% lmxbench %.0f %% machine %.0f %%; %d segments, %d errors, %d misses so far\n",
				now.Sub(t0).Seconds(), rss, cpu[0], cpu[1], cpu[2], busy, tot.segments, sumMap(tot.codes)+sumMap(tot.terrs)+sumMap(tot.pushErrs), tot.misses)
		}
	}
}

// kvOut collects KEY=value lines in order.
type kvOut struct{ lines []string }

func (o *kvOut) add(k string, v any) { o.lines = append(o.lines, fmt.Sprintf("%s=%v", k, v)) }

func (o *kvOut) print(w io.Writer) {
	for _, l := range o.lines {
		fmt.Fprintln(w, l)
	}
}

func writeRaw(prefix, name string, b []byte) {
	if prefix == "" || b == nil {
		return
	}
	_ = os.WriteFile(prefix+name, b, 0o644)
}
