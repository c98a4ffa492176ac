package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lmx-video/lmx/objstore"
)

// ---------------------------------------------------------------------------
// record: recording throughput and persist latency through the real path
//
// A source is pushed to a real edge with LiveMix's POST /v1/playlist (streaming
// stays off, so every upload is for the recording), a recording is started
// with POST /v1/source/NAME/recording, and N segments are pushed as fast as the
// system takes them: the pusher keeps at most -window segments waiting at the
// edge for the control node's ack (the edge's pending_record), so the edge's
// ring never has to drop a pinned segment. The run ends when the recording
// holds every segment and the control node's spool is empty
// (lmx_recording_spooled_segments 0). Throughput is the objects that appeared
// in the store over that wall time; the persist latency comes from the
// control node's lmx_recording_persist_seconds histogram, the difference of
// two scrapes around the measured segments.

func cmdRecord(args []string) error {
	fs := flag.NewFlagSet("record", flag.ExitOnError)
	edge := fs.String("edge", "", "edge base URL")
	api := fs.String("api", "", "management API base URL (serves /metrics too)")
	dir := fs.String("dir", "", "segment directory (an --allow-dir of the edge)")
	source := fs.String("source", "bench-rec", "source name")
	store := fs.String("store", "", "the control node's --recordings URL, to count its objects (s3 credentials from LMX_S3_ACCESS_KEY/LMX_S3_SECRET_KEY)")
	size := fs.Int("size", defaultSegSize, "segment bytes")
	rate := fs.Float64("rate", 4e6, "media bit rate the segments stand for (bit/s): EXTINF = size*8/rate")
	n := fs.Int("n", 300, "segments measured")
	warm := fs.Int("warmup", 3, "segments recorded and persisted before measuring")
	window := fs.Int("window", 8, "most segments waiting at the edge for the control node's ack")
	every := fs.Duration("every", 0, "push one segment per this interval instead of as fast as the system takes them")
	cpu := fs.String("cpu", "", "processes whose CPU and disk writes to account: name=pid,...")
	probeDir := fs.String("probe-dir", "", "after the run, time 2 MiB objstore.Dir.Put (write, fsync, rename) here, as the spool does (empty: skip)")
	limit := fs.Duration("timeout", 5*time.Minute, "give up after")
	_ = fs.Parse(args)

	ctx, cancel := context.WithTimeout(context.Background(), *limit)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	dur := float64(*size/tsPacket*tsPacket) * 8 / *rate
	p := &pusher{edge: *edge, source: *source, dir: *dir, size: *size, dur: dur, window: 5, keepFiles: 10, hc: hc,
		pdtBase: time.Now().Add(-time.Second).Truncate(time.Millisecond)}
	// One random segment, re-tagged per push: generating 2 MiB of random
	// payload per segment would cost the machine more CPU than copying it.
	base := tsSegment(*size, 1)
	segBytes := len(base)
	writeSeg := func(i int) error {
		binary.BigEndian.PutUint64(base[2*tsPacket+32:], uint64(i)+1)
		if err := os.WriteFile(filepath.Join(p.dir, p.fileName(i)), base, 0o644); err != nil {
			return err
		}
		if old := i - p.keepFiles; old >= 0 {
			_ = os.Remove(filepath.Join(p.dir, p.fileName(old)))
		}
		return nil
	}
	push := func(i int) error {
		if err := writeSeg(i); err != nil {
			return err
		}
		return p.push(i)
	}

	st, err := objstore.Open(ctx, *store, os.Getenv)
	if err != nil {
		return fmt.Errorf("store %s: %w", *store, err)
	}

	// The first push registers the source (streaming off).
	if err := push(0); err != nil {
		return err
	}
	if err := until(ctx, 15*time.Second, func() (bool, string) {
		code, b, err := get(hc, *api+"/v1/source/"+*source)
		return err == nil && code == 200, fmt.Sprintf("%d %s %v", code, b, err)
	}); err != nil {
		return fmt.Errorf("source %s did not register: %w", *source, err)
	}
	recID, err := startRecording(hc, *api, *source)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "record: recording %s of %s started; %d warm-up segments\n", recID, *source, *warm)
	for i := 1; i < *warm; i++ {
		if err := push(i); err != nil {
			return err
		}
	}
	recURL := *api + "/v1/recording/" + recID
	metricsURL := *api + "/metrics"
	settled := func(want int) (bool, string) {
		segs, err := recordingSegments(hc, recURL)
		if err != nil {
			return false, err.Error()
		}
		m, err := scrape(hc, metricsURL)
		if err != nil {
			return false, err.Error()
		}
		spooled := m.value("lmx_recording_spooled_segments")
		return segs >= want && spooled == 0, fmt.Sprintf("recording has %d of %d segments, %v spooled", segs, want, spooled)
	}
	if err := until(ctx, 30*time.Second, func() (bool, string) { return settled(*warm) }); err != nil {
		return fmt.Errorf("warm-up segments not recorded: %w", err)
	}
	before, err := st.List(ctx, "")
	if err != nil {
		return fmt.Errorf("listing %s: %w", st, err)
	}
	m0, err := scrape(hc, metricsURL)
	if err != nil {
		return err
	}
	procs := append(parseProcs(*cpu), namedPID{"lmxbench", os.Getpid()})
	cpu0 := procTicks(procs)
	io0 := procWriteBytes(procs)
	mp0, _, mb0, _ := machineTicks()

	// The spool gauge, sampled while the run goes.
	var (
		smu      sync.Mutex
		spoolMax float64
	)
	sctx, scancel := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		c := &http.Client{Timeout: 5 * time.Second}
		for sctx.Err() == nil {
			if m, err := scrape(c, metricsURL); err == nil {
				smu.Lock()
				spoolMax = max(spoolMax, m.value("lmx_recording_spooled_segments"))
				smu.Unlock()
			}
			select {
			case <-sctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
	t0 := time.Now()
	var waited time.Duration
	pendingMax := 0
	var pushDur []time.Duration
	for k := range *n {
		i := *warm + k
		if tick != nil {
			<-tick
		}
		for {
			pend, err := edgePending(hc, *edge, *source)
			if err != nil {
				scancel()
				return err
			}
			pendingMax = max(pendingMax, pend)
			if pend < *window {
				break
			}
			w := time.Now()
			time.Sleep(2 * time.Millisecond)
			waited += time.Since(w)
			if ctx.Err() != nil {
				scancel()
				return fmt.Errorf("edge still has %d segments pending after %d pushes: %w", pend, k, ctx.Err())
			}
		}
		ps := time.Now()
		if err := push(i); err != nil {
			scancel()
			return err
		}
		pushDur = append(pushDur, time.Since(ps))
	}
	tPushed := time.Since(t0)
	var tAcked time.Duration
	err = until(ctx, *limit, func() (bool, string) {
		segs, err := recordingSegments(hc, recURL)
		if err != nil {
			return false, err.Error()
		}
		if segs >= *warm+*n && tAcked == 0 {
			tAcked = time.Since(t0)
		}
		if segs < *warm+*n {
			return false, fmt.Sprintf("recording has %d of %d segments", segs, *warm+*n)
		}
		m, err := scrape(hc, metricsURL)
		if err != nil {
			return false, err.Error()
		}
		return m.value("lmx_recording_spooled_segments") == 0, fmt.Sprintf("%v still spooled", m.value("lmx_recording_spooled_segments"))
	})
	wall := time.Since(t0)
	scancel()
	<-sampled
	if err != nil {
		return fmt.Errorf("the recording did not complete: %w", err)
	}
	cpu1 := procTicks(procs)
	io1 := procWriteBytes(procs)
	mp1, _, mb1, _ := machineTicks()
	m1, err := scrape(hc, metricsURL)
	if err != nil {
		return err
	}
	after, err := st.List(ctx, "")
	if err != nil {
		return fmt.Errorf("listing %s: %w", st, err)
	}
	seenBefore := map[string]bool{}
	for _, k := range before {
		seenBefore[k] = true
	}
	objects := 0
	for _, k := range after {
		if !seenBefore[k] {
			objects++
		}
	}
	recSegs, _ := recordingSegments(hc, recURL)

	secs := wall.Seconds()
	segPerS := float64(objects) / secs
	mbPerS := float64(objects) * float64(segBytes) / 1e6 / secs
	rt := mbPerS * 1e6 * 8 / *rate
	fmt.Fprintf(os.Stderr, "record: %d objects in %s (pushed in %s, all acked at %s): %.1f segments/s, %.1f MB/s, %.1fx real time at %.0f bit/s\n",
		objects, wall.Round(time.Millisecond), tPushed.Round(time.Millisecond), tAcked.Round(time.Millisecond), segPerS, mbPerS, rt, *rate)
	fmt.Printf("STORE=%s\nRECORDING=%s\nN=%d\nWARMUP=%d\nWINDOW=%d\nEVERY_MS=%d\nSEG_BYTES=%d\nEXTINF_S=%.6f\n", st, recID, *n, *warm, *window, every.Milliseconds(), segBytes, dur)
	fmt.Printf("OBJECTS=%d\nRECORDING_SEGMENTS=%d\nWALL_S=%.3f\nPUSHED_S=%.3f\nACKED_S=%.3f\n", objects, recSegs, secs, tPushed.Seconds(), tAcked.Seconds())
	fmt.Printf("SEG_PER_S=%.2f\nMB_PER_S=%.1f\nRT_FACTOR=%.1f\nREALTIME_SEG_PER_S=%.4f\n", segPerS, mbPerS, rt, *rate/8/float64(segBytes))
	slices.Sort(pushDur)
	fmt.Printf("PUSH_P50_MS=%s\nPUSH_P99_MS=%s\nPUSHER_WAITED_S=%.3f\nEDGE_PENDING_MAX=%d\nSPOOL_MAX=%.0f\n", ms(pct(pushDur, 50)), ms(pct(pushDur, 99)), waited.Seconds(), pendingMax, spoolMax)

	// Persist latency: the histogram's increase over the measured segments.
	h0, h1 := m0.histogram("lmx_recording_persist_seconds"), m1.histogram("lmx_recording_persist_seconds")
	if h1 == nil {
		return errors.New("no lmx_recording_persist_seconds histogram in /metrics")
	}
	d := h1.sub(h0)
	fmt.Printf("HIST_COUNT=%.0f\nHIST_MEAN_MS=%.2f\n", d.count, d.sum/math.Max(d.count, 1)*1e3)
	for _, q := range []float64{50, 90, 99} {
		fmt.Printf("PERSIST_P%.0f_MS=%s\n", q, d.quantileMS(q/100))
	}
	fmt.Printf("PERSIST_BUCKETS=%s\n", d.String())

	// Where the CPU went, and what each process wrote to disk.
	pc := func(t int64) float64 { return float64(t) / clkTck / secs * 100 }
	var ours int64
	for _, pr := range procs {
		ours += cpu1[pr.name] - cpu0[pr.name]
		fmt.Printf("CPU_%s_PCT=%.1f\nWRITE_MB_%s=%.1f\n", strings.ToUpper(pr.name), pc(cpu1[pr.name]-cpu0[pr.name]), strings.ToUpper(pr.name), float64(io1[pr.name]-io0[pr.name])/1e6)
	}
	// The whole machine: all CPUs, processes and irq/softirq (200 = two CPUs busy).
	// Other processes: what the machine spent on processes that are none of
	// the above (noise from whatever else runs here), as `lmxbench load` does.
	fmt.Printf("MACHINE_BUSY_PCT=%.1f\nMACHINE_PROC_PCT=%.1f\nOTHER_CPU_PCT=%.1f\n", pc(mb1-mb0), pc(mp1-mp0), math.Max(pc(mp1-mp0-ours), 0))
	if objects != *n {
		return fmt.Errorf("%d new objects in %s, want %d", objects, st, *n)
	}

	if *probeDir != "" {
		lat, err := probeSpoolWrite(*probeDir, base, 30)
		if err != nil {
			return err
		}
		slices.Sort(lat)
		fmt.Printf("SPOOLPUT_P50_MS=%s\nSPOOLPUT_P99_MS=%s\nSPOOLPUT_MAX_MS=%s\n", ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]))
	}
	return nil
}

// until calls f every 10 ms until it reports done or limit passes.
func until(ctx context.Context, limit time.Duration, f func() (bool, string)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, why := f()
		if ok {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("after %s: %s", limit, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startRecording(hc *http.Client, api, source string) (string, error) {
	resp, err := hc.Post(api+"/v1/source/"+source+"/recording", "application/json", strings.NewReader(`{"alias":"bench"}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m struct {
		Recording struct {
			ID string `json:"id"`
		} `json:"recording"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil || m.Recording.ID == "" {
		return "", fmt.Errorf("start recording of %s: %s: %s", source, resp.Status, bytes.TrimSpace(b))
	}
	return m.Recording.ID, nil
}

func recordingSegments(hc *http.Client, url string) (int, error) {
	code, b, err := get(hc, url)
	if err != nil || code != 200 {
		return 0, fmt.Errorf("GET %s: %d %v", url, code, err)
	}
	var m struct {
		Recording struct {
			Segments int `json:"segments"`
		} `json:"recording"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, err
	}
	return m.Recording.Segments, nil
}

// edgePending is how many of source's buffered segments recordings still
// wait for, from the edge's GET /v1/status.
func edgePending(hc *http.Client, edge, source string) (int, error) {
	code, b, err := get(hc, edge+"/v1/status")
	if err != nil || code != 200 {
		return 0, fmt.Errorf("GET %s/v1/status: %d %v", edge, code, err)
	}
	var m struct {
		Status struct {
			Sources []struct {
				Name          string `json:"name"`
				PendingRecord int    `json:"pending_record"`
			} `json:"sources"`
		} `json:"status"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, err
	}
	for _, s := range m.Status.Sources {
		if s.Name == source {
			return s.PendingRecord, nil
		}
	}
	return 0, nil
}

// probeSpoolWrite times objstore.Dir.Put of data in dir, as the spool writes
// a recorded segment before the control node acknowledges it.
func probeSpoolWrite(dir string, data []byte, n int) ([]time.Duration, error) {
	d, err := objstore.NewDir(dir)
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for i := range n {
		key := fmt.Sprintf("probe/%d.ts", i)
		t := time.Now()
		if err := d.Put(context.Background(), key, data); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t))
		_ = d.Delete(context.Background(), key)
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Prometheus text exposition, as much as the bench needs

type promText map[string]float64 // series (name{labels}) -> value

func scrape(hc *http.Client, url string) (promText, error) {
	code, b, err := get(hc, url)
	if err != nil || code != 200 {
		return nil, fmt.Errorf("GET %s: %d %v", url, code, err)
	}
	m := promText{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

func (m promText) value(series string) float64 { return m[series] }

// hist is a cumulative histogram: upper bounds (ascending, +Inf last) and
// counts of observations ≤ each.
type hist struct {
	le         []float64
	cum        []float64
	count, sum float64
}

func (m promText) histogram(name string) *hist {
	h := &hist{}
	type b struct{ le, c float64 }
	var bs []b
	for k, v := range m {
		rest, ok := strings.CutPrefix(k, name+`_bucket{le="`)
		if !ok {
			continue
		}
		le, err := strconv.ParseFloat(strings.TrimSuffix(rest, `"}`), 64)
		if err != nil {
			continue
		}
		bs = append(bs, b{le, v})
	}
	if len(bs) == 0 {
		return nil
	}
	slices.SortFunc(bs, func(x, y b) int {
		switch {
		case x.le < y.le:
			return -1
		case x.le > y.le:
			return 1
		}
		return 0
	})
	for _, x := range bs {
		h.le = append(h.le, x.le)
		h.cum = append(h.cum, x.c)
	}
	h.count, h.sum = m[name+"_count"], m[name+"_sum"]
	return h
}

// sub is h minus an earlier scrape of the same histogram (nil: nothing).
func (h *hist) sub(o *hist) *hist {
	d := &hist{le: h.le, cum: slices.Clone(h.cum), count: h.count, sum: h.sum}
	if o == nil {
		return d
	}
	for i := range d.cum {
		d.cum[i] -= o.cum[i]
	}
	d.count -= o.count
	d.sum -= o.sum
	return d
}

// quantileMS is the q-quantile in milliseconds, by linear interpolation
// within the bucket that holds it, as Prometheus' histogram_quantile does
// (the lowest bucket from 0). In the +Inf bucket it is "> the last bound".
func (h *hist) quantileMS(q float64) string {
	total := h.cum[len(h.cum)-1]
	if total == 0 {
		return "NA"
	}
	rank := q * total
	for i, c := range h.cum {
		if c < rank {
			continue
		}
		if math.IsInf(h.le[i], 1) {
			return ">" + strconv.FormatFloat(h.le[i-1]*1e3, 'f', 0, 64)
		}
		lo, below := 0.0, 0.0
		if i > 0 {
			lo, below = h.le[i-1], h.cum[i-1]
		}
		v := lo + (h.le[i]-lo)*(rank-below)/(c-below)
		return strconv.FormatFloat(v*1e3, 'f', 1, 64)
	}
	return "NA"
}

// String lists the non-empty buckets: "≤2ms:3 ≤5ms:10 …" (counts per bucket).
func (h *hist) String() string {
	var parts []string
	prev := 0.0
	for i, c := range h.cum {
		if n := c - prev; n > 0 {
			b := "+Inf"
			if !math.IsInf(h.le[i], 1) {
				b = strconv.FormatFloat(h.le[i]*1e3, 'f', -1, 64) + "ms"
			}
			parts = append(parts, fmt.Sprintf("le%s:%.0f", b, n))
		}
		prev = c
	}
	return strings.Join(parts, ",")
}

// ---------------------------------------------------------------------------
// Per-process accounting

type namedPID struct {
	name string
	pid  int
}

func parseProcs(s string) []namedPID {
	var out []namedPID
	for _, f := range strings.Split(s, ",") {
		name, pid, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			continue
		}
		if p, err := strconv.Atoi(pid); err == nil {
			out = append(out, namedPID{name, p})
		}
	}
	return out
}

func procTicks(ps []namedPID) map[string]int64 {
	out := map[string]int64{}
	for _, p := range ps {
		out[p.name] = ticksOf(descendants([]int{p.pid}))
	}
	return out
}

// procWriteBytes reads write_bytes (what the process caused to be written to
// storage) from /proc/PID/io.
func procWriteBytes(ps []namedPID) map[string]int64 {
	out := map[string]int64{}
	for _, p := range ps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", p.pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
				out[p.name], _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
	}
	return out
}
