// Command lmxbench is the helper bench/run.sh uses to drive a real control
// node and edge: it writes MPEG-TS-looking segment files, pushes LiveMix
// playlists to the edge, measures ingest latency and recording throughput,
// replays many live sources to many simulated players (scale), and samples
// a process's memory and CPU. It prints key=value lines on
// stdout for the script and progress on stderr.
//
//	lmxbench tsgen     -o FILE [-size N] [-seed K]
//	lmxbench seed      -edge URL -api URL -vod URL -dir SEGDIR -source NAME -www ROOT
//	lmxbench ingestlat -edge URL -api URL -vod URL -dir SEGDIR -source NAME [-n 150] [-every 200ms]
//	lmxbench sample    -pid PID -status URL [-for 60s]
//	lmxbench stream    -api URL -source NAME [-wait 30s]
//	lmxbench load      -pids PID,... -out FILE -- COMMAND [ARG...]
//	lmxbench record    -edge URL -api URL -dir SEGDIR -store URL [-n 300] [-window 8] [-cpu name=PID,...]
//	lmxbench scale     -edges URL,... -dirs DIR,... -api URL -vod URL -media DIR -controld PID [-sources 100] [-players 1000] [-for 5m]
//	lmxbench ondemand  -edge URL -api URL -vod URL -dir SEGDIR -edge-pid PID [-quiet 3m] [-wakes 20] [-idle 3s]
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: lmxbench tsgen|seed|ingestlat|sample|stream|load|record|scale|ondemand [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "tsgen":
		err = cmdTSGen(os.Args[2:])
	case "seed":
		err = cmdSeed(os.Args[2:])
	case "ingestlat":
		err = cmdIngestLat(os.Args[2:])
	case "sample":
		err = cmdSample(os.Args[2:])
	case "stream":
		err = cmdStream(os.Args[2:])
	case "load":
		err = cmdLoad(os.Args[2:])
	case "record":
		err = cmdRecord(os.Args[2:])
	case "scale":
		err = cmdScale(os.Args[2:])
	case "ondemand":
		err = cmdOnDemand(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lmxbench:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------
// MPEG-TS-looking segments

const tsPacket = 188

// defaultSegSize is 2 MiB rounded down to whole TS packets (11155 packets).
const defaultSegSize = (2 << 20) / tsPacket * tsPacket

// tsSegment returns size bytes (rounded down to whole 188-byte packets) that
// look like an MPEG-TS segment: PAT, PMT, then H.264 PES packets on PID 0x100
// with a PCR on the first, correct continuity counters, and random payload
// (incompressible, like real video).
func tsSegment(size int, seed uint64) []byte {
	n := max(size/tsPacket, 3)
	b := make([]byte, n*tsPacket)
	rng := rand.New(rand.NewPCG(seed, 0x6c6d78))
	var cc [0x2000]byte
	hdr := func(p []byte, pid uint16, pusi bool, adapt byte) {
		p[0] = 0x47
		p[1] = byte(pid>>8) & 0x1f
		if pusi {
			p[1] |= 0x40
		}
		p[2] = byte(pid)
		p[3] = adapt<<4 | cc[pid]&0x0f
		cc[pid]++
	}
	// PAT: program 1 -> PMT PID 0x1000.
	p := b[0:tsPacket]
	hdr(p, 0, true, 1)
	copy(p[4:], []byte{0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2})
	for i := 4 + 17; i < tsPacket; i++ {
		p[i] = 0xff
	}
	// PMT: PCR PID 0x100, one H.264 stream on 0x100.
	p = b[tsPacket : 2*tsPacket]
	hdr(p, 0x1000, true, 1)
	copy(p[4:], []byte{0x00, 0x02, 0xb0, 0x12, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00, 0x15, 0xbd, 0x4d, 0x56})
	for i := 4 + 22; i < tsPacket; i++ {
		p[i] = 0xff
	}
	for k := 2; k < n; k++ {
		p = b[k*tsPacket : (k+1)*tsPacket]
		if k == 2 {
			// Adaptation field with random access and a PCR, then a PES header.
			hdr(p, 0x100, true, 3)
			copy(p[4:], []byte{7, 0x50, 0, 0, 0, 0, 0x7e, 0})
			copy(p[12:], []byte{0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, 0, 0, 0, 1, 0x09, 0xf0})
			fillRandom(rng, p[32:])
			continue
		}
		hdr(p, 0x100, false, 1)
		fillRandom(rng, p[4:])
	}
	// Tag the segment so every one differs in its first payload bytes too.
	binary.BigEndian.PutUint64(b[2*tsPacket+32:], seed)
	return b
}

func fillRandom(rng *rand.Rand, p []byte) {
	for i := 0; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], rng.Uint64())
	}
	for i := len(p) &^ 7; i < len(p); i++ {
		p[i] = byte(rng.Uint32())
	}
}

func cmdTSGen(args []string) error {
	fs := flag.NewFlagSet("tsgen", flag.ExitOnError)
	out := fs.String("o", "", "output file")
	size := fs.Int("size", defaultSegSize, "bytes (rounded down to 188-byte packets)")
	seed := fs.Uint64("seed", 1, "payload seed")
	_ = fs.Parse(args)
	if *out == "" {
		return errors.New("tsgen: -o is required")
	}
	return os.WriteFile(*out, tsSegment(*size, *seed), 0o644)
}

// ---------------------------------------------------------------------------
// Pushing like LiveMix's ffmpeg

// pusher writes segment files into dir and POSTs the sliding playlist that
// names them to the edge, as ffmpeg's HLS muxer does.
type pusher struct {
	edge, source, dir string
	size              int
	dur               float64
	window            int
	keepFiles         int
	hc                *http.Client
	pdtBase           time.Time
}

func (p *pusher) fileName(i int) string { return fmt.Sprintf("%s-%06d.ts", p.source, i) }

// pdt is segment i's EXT-X-PROGRAM-DATE-TIME. The control node serves it
// back (UTC, milliseconds), which identifies segment i in its playlist.
func (p *pusher) pdt(i int) time.Time {
	return p.pdtBase.Add(time.Duration(float64(i) * p.dur * float64(time.Second)))
}

// pdtServed is how the control node writes pdt(i).
func (p *pusher) pdtServed(i int) string {
	return "#EXT-X-PROGRAM-DATE-TIME:" + p.pdt(i).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func (p *pusher) writeSegment(i int) error {
	if err := os.WriteFile(filepath.Join(p.dir, p.fileName(i)), tsSegment(p.size, uint64(i)+1), 0o644); err != nil {
		return err
	}
	if old := i - p.keepFiles; old >= 0 {
		_ = os.Remove(filepath.Join(p.dir, p.fileName(old)))
	}
	return nil
}

func (p *pusher) playlist(last int) []byte {
	first := max(0, last-p.window+1)
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", int(math.Ceil(p.dur)), first)
	for j := first; j <= last; j++ {
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%.6f,\n%s\n", p.pdt(j).UTC().Format("2006-01-02T15:04:05.000Z07:00"), p.dur, p.fileName(j))
	}
	return b.Bytes()
}

// push POSTs the playlist whose newest segment is last and reads the answer.
func (p *pusher) push(last int) error {
	req, err := http.NewRequest(http.MethodPost, p.edge+"/v1/playlist", bytes.NewReader(p.playlist(last)))
	if err != nil {
		return err
	}
	req.Header.Set("Video-Source-Name", p.source)
	req.Header.Set("MPEG-TS-URI-Prefix", "file://"+p.dir)
	req.Header.Set("Content-Type", "application/vnd.apple.mpegurl")
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("push of segment %d: %s: %s", last, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

func (p *pusher) writeAndPush(i int) error {
	if err := p.writeSegment(i); err != nil {
		return err
	}
	return p.push(i)
}

// tokenTransport sends LMX_TOKEN, when set, as the bearer of every request
// (a control node with access control on; see BENCH_AUTH in bench/run.sh).
type tokenTransport struct{ base http.RoundTripper }

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok := os.Getenv("LMX_TOKEN"); tok != "" && req.Header.Get("Authorization") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return t.base.RoundTrip(req)
}

func get(hc *http.Client, url string) (int, []byte, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// streamOn turns streaming on for source (retrying while the source is not
// registered yet) and waits until its edge confirms.
func streamOn(hc *http.Client, api, source string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		req, _ := http.NewRequest(http.MethodPut, api+"/v1/source/"+source+"/streaming?new_state=true", nil)
		resp, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("could not turn streaming on for %s (last: %v)", source, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		code, b, err := get(hc, api+"/v1/source/"+source)
		if err == nil && code == 200 {
			var m struct {
				Source struct {
					EdgeStreaming bool `json:"edge_streaming"`
				} `json:"source"`
			}
			if json.Unmarshal(b, &m) == nil && m.Source.EdgeStreaming {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("edge did not confirm streaming of %s within %s", source, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitListed polls the live playlist until it contains want.
func waitListed(hc *http.Client, url, want string, limit time.Duration) ([]byte, error) {
	deadline := time.Now().Add(limit)
	for {
		code, b, err := get(hc, url)
		if err == nil && code == 200 && bytes.Contains(b, []byte(want)) {
			return b, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s did not list %q within %s (last answer %d %q, %v)", url, want, limit, code, b, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cmdStream(args []string) error {
	fs := flag.NewFlagSet("stream", flag.ExitOnError)
	api := fs.String("api", "", "management API base URL")
	source := fs.String("source", "", "source name")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the source to register and its edge to confirm")
	_ = fs.Parse(args)
	return streamOn(http.DefaultClient, *api, *source, *wait)
}

// ---------------------------------------------------------------------------
// seed: put a segment into the control node's cache through the real path

func cmdSeed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	edge := fs.String("edge", "", "edge base URL")
	api := fs.String("api", "", "management API base URL")
	vod := fs.String("vod", "", "playback base URL")
	dir := fs.String("dir", "", "segment directory (an --allow-dir of the edge)")
	source := fs.String("source", "bench-serve", "source name")
	size := fs.Int("size", defaultSegSize, "segment bytes")
	dur := fs.Float64("dur", 6, "segment duration (s)")
	www := fs.String("www", "", "nginx document root to copy the served bytes into")
	_ = fs.Parse(args)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: tokenTransport{http.DefaultTransport}}
	p := &pusher{edge: *edge, source: *source, dir: *dir, size: *size, dur: *dur, window: 5, keepFiles: 10, hc: hc,
		pdtBase: time.Now().Add(-time.Hour).Truncate(time.Second)}
	// The first push registers the source; three are buffered at the edge.
	for i := 0; i < 3; i++ {
		if err := p.writeAndPush(i); err != nil {
			return err
		}
	}
	if err := streamOn(hc, *api, *source, 30*time.Second); err != nil {
		return err
	}
	plURL := *vod + "/v1/vod/live/" + *source + "/vid.m3u8"
	if _, err := waitListed(hc, plURL, p.pdtServed(2), 15*time.Second); err != nil {
		return err
	}
	last := 5
	for i := 3; i <= last; i++ {
		if err := p.writeAndPush(i); err != nil {
			return err
		}
	}
	pl, err := waitListed(hc, plURL, p.pdtServed(last), 15*time.Second)
	if err != nil {
		return err
	}
	// The newest segment's URI is the playlist's last non-tag line.
	var uri string
	for _, line := range strings.Split(strings.TrimSpace(string(pl)), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			uri = line
		}
	}
	if uri == "" {
		return fmt.Errorf("no segment in %q", pl)
	}
	segPath := "/v1/vod/live/" + *source + "/" + uri
	code, seg, err := get(hc, *vod+segPath)
	if err != nil || code != 200 {
		return fmt.Errorf("GET %s: %d %v", segPath, code, err)
	}
	want, err := os.ReadFile(filepath.Join(*dir, p.fileName(last)))
	if err != nil {
		return err
	}
	if !bytes.Equal(seg, want) {
		return fmt.Errorf("control node served %d bytes for %s, not the %d pushed", len(seg), segPath, len(want))
	}
	plPath := "/v1/vod/live/" + *source + "/vid.m3u8"
	if *www != "" {
		d := filepath.Join(*www, "v1", "vod", "live", *source)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, uri), seg, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "vid.m3u8"), pl, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("SEG_PATH=%s\nSEG_BYTES=%d\nPL_PATH=%s\nPL_BYTES=%d\n", segPath, len(seg), plPath, len(pl))
	return nil
}

// ---------------------------------------------------------------------------
// ingestlat: push → listed latency

func cmdIngestLat(args []string) error {
	fs := flag.NewFlagSet("ingestlat", flag.ExitOnError)
	edge := fs.String("edge", "", "edge base URL")
	api := fs.String("api", "", "management API base URL")
	vod := fs.String("vod", "", "playback base URL")
	dir := fs.String("dir", "", "segment directory (an --allow-dir of the edge)")
	source := fs.String("source", "bench-ingest", "source name")
	size := fs.Int("size", defaultSegSize, "segment bytes")
	dur := fs.Float64("dur", 2, "EXTINF of each segment (s)")
	n := fs.Int("n", 150, "segments measured")
	warm := fs.Int("warmup", 5, "segments pushed at the same pace before measuring")
	every := fs.Duration("every", 200*time.Millisecond, "push pace")
	pollEvery := fs.Duration("poll", 0, "pause between playlist polls (0: tight loop)")
	_ = fs.Parse(args)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	p := &pusher{edge: *edge, source: *source, dir: *dir, size: *size, dur: *dur, window: 5, keepFiles: 10, hc: hc,
		pdtBase: time.Now().Add(-time.Hour).Truncate(time.Second)}
	plURL := *vod + "/v1/vod/live/" + *source + "/vid.m3u8"

	// Register, buffer three, stream on, wait until the first ones are listed.
	for i := 0; i < 3; i++ {
		if err := p.writeAndPush(i); err != nil {
			return err
		}
	}
	if err := streamOn(hc, *api, *source, 30*time.Second); err != nil {
		return err
	}
	if _, err := waitListed(hc, plURL, p.pdtServed(2), 15*time.Second); err != nil {
		return err
	}
	next := 3

	total := *warm + *n
	sent := make([]time.Time, total)
	returned := make([]time.Time, total)
	seen := make([]time.Time, total)
	markers := make([][]byte, total)
	for k := range total {
		markers[k] = []byte(p.pdtServed(next + k))
	}
	var lastSent atomic.Int64
	lastSent.Store(-1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type pollStats struct {
		polls  int
		gaps   []time.Duration
		maxGap time.Duration
		span   time.Duration
		errs   int
	}
	pollDone := make(chan pollStats, 1)
	// The poller: its own keep-alive connection, GET the playlist in a loop,
	// stamp every segment found for the first time.
	go func() {
		pc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		var st pollStats
		start := time.Now()
		prev := start
		unseen := 0
		for ctx.Err() == nil && unseen < total {
			code, b, err := get(pc, plURL)
			now := time.Now()
			st.polls++
			st.maxGap = max(st.maxGap, now.Sub(prev))
			st.gaps = append(st.gaps, now.Sub(prev))
			prev = now
			if err != nil || code != 200 {
				st.errs++
			} else {
				hi := int(lastSent.Load())
				for k := unseen; k <= hi; k++ {
					if seen[k].IsZero() && bytes.Contains(b, markers[k]) {
						seen[k] = now
					}
				}
				for unseen < total && !seen[unseen].IsZero() {
					unseen++
				}
			}
			if *pollEvery > 0 {
				time.Sleep(*pollEvery)
			}
		}
		st.span = time.Since(start)
		pollDone <- st
	}()

	tick := time.NewTicker(*every)
	defer tick.Stop()
	for k := range total {
		<-tick.C
		i := next + k
		if err := p.writeSegment(i); err != nil {
			return err
		}
		lastSent.Store(int64(k))
		sent[k] = time.Now()
		err := p.push(i)
		returned[k] = time.Now()
		if err != nil {
			return err
		}
	}
	// Give the last ones time to appear, then stop the poller.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !seen[total-1].IsZero() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	ps := <-pollDone

	var fromSend, fromReturn, postDur []time.Duration
	missing := 0
	for k := *warm; k < total; k++ {
		if seen[k].IsZero() {
			missing++
			continue
		}
		fromSend = append(fromSend, seen[k].Sub(sent[k]))
		fromReturn = append(fromReturn, seen[k].Sub(returned[k]))
		postDur = append(postDur, returned[k].Sub(sent[k]))
	}
	fmt.Fprintf(os.Stderr, "ingestlat: %d measured, %d missing, %d polls in %s (mean %.0f µs, max gap %s), %d poll errors\n",
		len(fromSend), missing, ps.polls, ps.span.Round(time.Millisecond), float64(ps.span.Microseconds())/float64(max(ps.polls, 1)), ps.maxGap.Round(time.Microsecond), ps.errs)
	fmt.Printf("N=%d\nMISSING=%d\nPACE_MS=%d\nSEG_BYTES=%d\n", len(fromSend), missing, every.Milliseconds(), len(tsSegment(*size, 1)))
	slices.Sort(ps.gaps)
	fmt.Printf("POLLS=%d\nPOLL_MEAN_US=%.0f\nPOLL_P99_GAP_US=%d\nPOLL_MAX_GAP_US=%d\n", ps.polls, float64(ps.span.Microseconds())/float64(max(ps.polls, 1)), pct(ps.gaps, 99).Microseconds(), ps.maxGap.Microseconds())
	report := func(key string, d []time.Duration) {
		if len(d) == 0 {
			fmt.Printf("%s_P50=NA\n%s_P90=NA\n%s_P99=NA\n%s_MAX=NA\n", key, key, key, key)
			return
		}
		slices.Sort(d)
		fmt.Printf("%s_P50=%s\n%s_P90=%s\n%s_P99=%s\n%s_MAX=%s\n%s_MIN=%s\n", key, ms(pct(d, 50)), key, ms(pct(d, 90)), key, ms(pct(d, 99)), key, ms(d[len(d)-1]), key, ms(d[0]))
	}
	report("RET", fromReturn)
	report("SEND", fromSend)
	report("POST", postDur)
	if missing > 0 {
		return fmt.Errorf("%d segments were never listed", missing)
	}
	return nil
}

// pct is the nearest-rank percentile of sorted d.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	r := int(math.Ceil(p / 100 * float64(len(d))))
	return d[min(max(r, 1), len(d))-1]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

// ---------------------------------------------------------------------------
// sample: a process's RSS and CPU once a second

// clkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat; it is 100 on
// every Linux architecture Go supports.
const clkTck = 100

func readRSS(pid int) (rssKB, hwmKB int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rssKB, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwmKB, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rssKB, hwmKB, nil
}

func readCPUTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the command: state(3) ... utime(14) stime(15), so fields 11 and 12 here.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, nil
}

func cmdSample(args []string) error {
	fs := flag.NewFlagSet("sample", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process to sample")
	status := fs.String("status", "", "edge status URL (GET /v1/status), read at the end")
	dur := fs.Duration("for", 60*time.Second, "how long to sample")
	every := fs.Duration("every", time.Second, "sampling interval")
	series := fs.String("series", "", "file for the per-interval samples (seconds, RSS kB, CPU %)")
	_ = fs.Parse(args)
	var sw io.Writer = io.Discard
	if *series != "" {
		f, err := os.Create(*series)
		if err != nil {
			return err
		}
		defer f.Close()
		sw = f
		fmt.Fprintln(sw, "# t_s rss_kb cpu_pct")
	}
	t0 := time.Now()
	c0, err := readCPUTicks(*pid)
	if err != nil {
		return err
	}
	var rss []int64
	var perSec []float64
	prevT, prevC := t0, c0
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for time.Since(t0) < *dur {
		<-tick.C
		r, _, err := readRSS(*pid)
		if err != nil {
			return err
		}
		c, err := readCPUTicks(*pid)
		if err != nil {
			return err
		}
		now := time.Now()
		rss = append(rss, r)
		perSec = append(perSec, float64(c-prevC)/clkTck/now.Sub(prevT).Seconds()*100)
		fmt.Fprintf(sw, "%.1f %d %.1f\n", now.Sub(t0).Seconds(), r, perSec[len(perSec)-1])
		prevT, prevC = now, c
	}
	wall := time.Since(t0)
	c1, _ := readCPUTicks(*pid)
	_, hwm, _ := readRSS(*pid)
	var sum, peak int64
	for _, r := range rss {
		sum += r
		peak = max(peak, r)
	}
	mean := float64(sum) / float64(len(rss))
	cpu := float64(c1-c0) / clkTck / wall.Seconds() * 100
	fmt.Printf("SAMPLES=%d\nWALL_S=%.1f\nRSS_PEAK_KB=%d\nRSS_MEAN_KB=%.0f\nRSS_LAST_KB=%d\nVMHWM_KB=%d\n", len(rss), wall.Seconds(), peak, mean, rss[len(rss)-1], hwm)
	fmt.Printf("CPU_MEAN_PCT=%.2f\nCPU_MAX_1S_PCT=%.1f\nCPU_TICKS=%d\n", cpu, slices.Max(perSec), c1-c0)
	if *status != "" {
		code, b, err := get(http.DefaultClient, *status)
		if err != nil || code != 200 {
			return fmt.Errorf("GET %s: %d %v", *status, code, err)
		}
		var m struct {
			Status struct {
				Sources []struct {
					Name             string  `json:"name"`
					Streaming        bool    `json:"streaming"`
					BufferedBytes    int64   `json:"buffered_bytes"`
					BufferedSegments int     `json:"buffered_segments"`
					BufferedSeconds  float64 `json:"buffered_seconds"`
					BitrateBPS       int64   `json:"bitrate_bps"`
					Uploaded         uint64  `json:"uploaded"`
					Dropped          uint64  `json:"dropped"`
				} `json:"sources"`
			} `json:"status"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("edge status: %w", err)
		}
		var bytes, up, drop int64
		var segs int
		var secs float64
		var rate int64
		for _, s := range m.Status.Sources {
			bytes += s.BufferedBytes
			segs += s.BufferedSegments
			secs += s.BufferedSeconds
			up += int64(s.Uploaded)
			drop += int64(s.Dropped)
			rate += s.BitrateBPS
		}
		fmt.Printf("RING_BYTES=%d\nRING_SEGMENTS=%d\nRING_SECONDS=%.1f\nBITRATE_BPS=%d\nUPLOADED=%d\nDROPPED=%d\n", bytes, segs, secs, rate, up, drop)
		// RSS less the ring's bytes, both at the end; and the peak RSS less them.
		fmt.Printf("BEYOND_PEAK_KB=%d\nBEYOND_LAST_KB=%d\n", peak-bytes/1024, rss[len(rss)-1]-bytes/1024)
	}
	return nil
}

// ---------------------------------------------------------------------------
// load: run a load generator and account for where the machine's CPU went

// machineTicks reads the aggregate cpu line of /proc/stat: time in user,
// nice and system (processes), in irq and softirq, and all of it but idle.
func machineTicks() (proc, irq, busy int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, 0, errors.New("bad /proc/stat")
	}
	v := make([]int64, 8)
	for i := range v {
		v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal
	return v[0] + v[1] + v[2], v[5] + v[6], v[0] + v[1] + v[2] + v[5] + v[6] + v[7], nil
}

// descendants returns pids and every process below them.
func descendants(pids []int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	for changed := true; changed; {
		changed = false
		for pid, pp := range parent {
			if in[pp] && !in[pid] {
				in[pid], changed = true, true
			}
		}
	}
	out := make([]int, 0, len(in))
	for p := range in {
		out = append(out, p)
	}
	return out
}

func ticksOf(pids []int) int64 {
	var t int64
	for _, p := range pids {
		if c, err := readCPUTicks(p); err == nil {
			t += c
		}
	}
	return t
}

// cmdLoad runs COMMAND (the load generator; its output goes to stdout) and
// writes to -out how much CPU the servers (-pids and their children), the
// command, softirq/irq work and everything else on the machine used, each
// in % of one CPU. "Other" is what the machine spent on processes that are
// neither: noise from whatever else runs here.
func cmdLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	pidList := fs.String("pids", "", "comma-separated server pids")
	out := fs.String("out", "", "file for the KEY=value accounting (default stderr)")
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		return errors.New("load: no command")
	}
	var pids []int
	for _, s := range strings.Split(*pidList, ",") {
		if p, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			pids = append(pids, p)
		}
	}
	servers := descendants(pids)
	p0, i0, b0, err := machineTicks()
	if err != nil {
		return err
	}
	s0 := ticksOf(servers)
	self0 := ticksOf([]int{os.Getpid()})
	t0 := time.Now()
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	runErr := cmd.Run()
	wall := time.Since(t0).Seconds()
	p1, i1, b1, _ := machineTicks()
	s1 := ticksOf(servers)
	self1 := ticksOf([]int{os.Getpid()})
	var child float64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			child = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
		}
	}
	pc := func(ticks float64) float64 { return ticks / clkTck / wall * 100 }
	server := pc(float64(s1 - s0))
	client := child / wall * 100
	other := pc(float64(p1-p0)-float64(s1-s0)-float64(self1-self0)) - client
	w := io.Writer(os.Stderr)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	fmt.Fprintf(w, "WALL_S=%.2f\nSERVER_CPU_PCT=%.1f\nCLIENT_CPU_PCT=%.1f\nIRQ_CPU_PCT=%.1f\nOTHER_CPU_PCT=%.1f\nMACHINE_BUSY_PCT=%.1f\n",
		wall, server, client, pc(float64(i1-i0)), max(other, 0), pc(float64(b1-b0)))
	return runErr
}
