package hls

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// encodedSegment is one real segment ffmpeg wrote, with what ffmpeg's own
// multivariant playlist and ffprobe say about it.
type encodedSegment struct {
	ts      []byte
	variant Variant // ffmpeg's EXT-X-STREAM-INF for the stream (CODECS, RESOLUTION)
	video   ffprobeStream
	audio   ffprobeStream // zero when the segment has no audio
}

// ffprobeStream is the part of ffprobe -show_streams -of json we compare.
type ffprobeStream struct {
	CodecType  string `json:"codec_type"`
	CodecName  string `json:"codec_name"`
	Profile    string `json:"profile"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Level      int    `json:"level"`
	RFrameRate string `json:"r_frame_rate"`
}

// needFFmpeg returns the paths of ffmpeg and ffprobe, or skips the test.
func needFFmpeg(t *testing.T) (ffmpeg, ffprobe string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed (make test-deps)")
	}
	ffprobe, err = exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed (make test-deps)")
	}
	return ffmpeg, ffprobe
}

// encodeSegment has ffmpeg's hls muxer write one second of test pattern
// (size WxH at rate, plus a sine tone when audio args are given) as
// MPEG-TS segments with a multivariant playlist, and returns the first
// segment. -b:v is given so that ffmpeg writes EXT-X-STREAM-INF with its
// CODECS and RESOLUTION to compare with.
func encodeSegment(t *testing.T, size, rate string, video, audio []string) encodedSegment {
	t.Helper()
	ffmpeg, ffprobe := needFFmpeg(t)
	dir := t.TempDir()
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc=size=" + size + ":rate=" + rate,
		"-f", "lavfi", "-i", "sine=sample_rate=48000", "-map", "0:v"}
	if audio != nil {
		args = append(args, "-map", "1:a")
		args = append(args, audio...)
	}
	args = append(args, video...)
	args = append(args, "-b:v", "1M", "-t", "1", "-f", "hls", "-hls_time", "1",
		"-hls_segment_filename", filepath.Join(dir, "seg%d.ts"), "-master_pl_name", "master.m3u8", filepath.Join(dir, "vid.m3u8"))
	if out, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var seg encodedSegment
	var err error
	if seg.ts, err = os.ReadFile(filepath.Join(dir, "seg0.ts")); err != nil {
		t.Fatal(err)
	}
	master, err := os.ReadFile(filepath.Join(dir, "master.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	// ffmpeg leaves CODECS out for a codec it cannot name (Opus); the
	// playlist still has its one variant.
	if mp := mustParseMultivariant(t, string(master)); len(mp.Variants) == 1 {
		seg.variant = mp.Variants[0]
	} else {
		t.Fatalf("ffmpeg's multivariant playlist has %d variants:\n%s", len(mp.Variants), master)
	}

	out, err := exec.Command(ffprobe, "-v", "error", "-show_streams", "-of", "json", filepath.Join(dir, "seg0.ts")).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var probed struct{ Streams []ffprobeStream }
	if err := json.Unmarshal(out, &probed); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	for _, s := range probed.Streams {
		switch s.CodecType {
		case "video":
			seg.video = s
		case "audio":
			seg.audio = s
		}
	}
	return seg
}

// profileNames are ffprobe's names for H.264 profile_idc values; baseline
// with constraint_set1_flag is "Constrained Baseline".
var profileNames = map[int]string{66: "Baseline", 77: "Main", 88: "Extended", 100: "High", 110: "High 10", 122: "High 4:2:2", 244: "High 4:4:4 Predictive"}

// ffprobeRate turns an r_frame_rate such as "30000/1001" into a number.
func ffprobeRate(t *testing.T, r string) float64 {
	t.Helper()
	n, d, ok := strings.Cut(r, "/")
	num, err1 := strconv.ParseFloat(n, 64)
	den, err2 := strconv.ParseFloat(d, 64)
	if !ok || err1 != nil || err2 != nil || den == 0 {
		t.Fatalf("r_frame_rate %q", r)
	}
	return num / den
}

// TestProbeTSMatchesFFmpeg encodes real segments across profiles, sizes
// that need cropping, chroma formats, interlacing, scaling lists, VUI
// contents and audio codecs, and checks ProbeTS against ffprobe (size,
// profile, level, frame rate, audio codec) and against the CODECS and
// RESOLUTION ffmpeg's hls muxer writes in its own multivariant playlist
// for the same stream.
func TestProbeTSMatchesFFmpeg(t *testing.T) {
	needFFmpeg(t)
	x264 := []string{"-c:v", "libx264", "-preset", "veryfast", "-g", "25"}
	with := func(extra ...string) []string { return append(append([]string(nil), x264...), extra...) }
	cases := []struct {
		name        string
		size, rate  string
		video       []string
		audio       []string // nil: no audio
		wantProfile int
		// coded lists how the SPS must code the picture, so each case is
		// known to take the parser path it is named for.
		coded string
	}{
		{"constrained baseline 640x360 AAC", "640x360", "25", with("-profile:v", "baseline", "-pix_fmt", "yuv420p"), []string{"-c:a", "aac"}, 66, "cropped vui"},
		{"main 640x360 AAC", "640x360", "25", with("-profile:v", "main", "-pix_fmt", "yuv420p"), []string{"-c:a", "aac"}, 77, "cropped"},
		{"high 1280x720 MP3", "1280x720", "25", with("-profile:v", "high", "-pix_fmt", "yuv420p"), []string{"-c:a", "libmp3lame"}, 100, "chroma=1"},
		{"high 1920x1080 (cropped from 1088) AC-3", "1920x1080", "25", with("-profile:v", "high", "-pix_fmt", "yuv420p"), []string{"-c:a", "ac3"}, 100, "cropped"},
		{"main 854x480 (cropped width) E-AC-3", "854x480", "30000/1001", with("-profile:v", "main", "-pix_fmt", "yuv420p"), []string{"-c:a", "eac3"}, 77, "cropped"},
		{"high 10 640x360 MP2", "640x360", "25", with("-pix_fmt", "yuv420p10le"), []string{"-c:a", "mp2"}, 110, "chroma=1 cropped"},
		{"high 4:2:2 642x362 (crop rows of one line)", "642x362", "25", with("-pix_fmt", "yuv422p"), nil, 122, "chroma=2 cropped"},
		{"high 4:4:4 853x479 (odd size)", "853x479", "24", with("-pix_fmt", "yuv444p"), []string{"-c:a", "aac", "-profile:a", "aac_main"}, 244, "chroma=3 cropped"},
		{"high 4:0:0 (monochrome) 650x370", "650x370", "25", with("-pix_fmt", "gray"), []string{"-c:a", "aac"}, 100, "chroma=0 cropped"},
		{"interlaced 1920x1080 (field coding, crop in field lines)", "1920x1080", "25", with("-pix_fmt", "yuv420p", "-flags", "+ildct+ilme", "-x264-params", "interlaced=1:tff=1"), []string{"-c:a", "aac"}, 100, "fields cropped"},
		{"VUI with extended SAR, overscan, colour and chroma location", "720x576", "30000/1001", with("-pix_fmt", "yuv420p", "-vf", "setsar=7/5",
			"-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-x264-params", "overscan=show:chromaloc=1"), []string{"-c:a", "aac"}, 100, "vui"},
		{"video only", "320x240", "25", with("-pix_fmt", "yuv420p"), nil, 100, "vui"},
		{"AC-3 as DVB private data (mpegts_flags system_b)", "320x240", "25", with("-pix_fmt", "yuv420p", "-hls_segment_options", "mpegts_flags=system_b"), []string{"-c:a", "ac3"}, 100, "vui"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seg := encodeSegment(t, tc.size, tc.rate, tc.video, tc.audio)
			info, err := ProbeTS(seg.ts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", info)
			sps := spsOfSegment(t, seg.ts)
			for _, c := range strings.Fields(tc.coded) {
				if !spsCoded(sps)[c] {
					t.Errorf("the SPS is not %s: %+v", c, sps)
				}
			}
			if got, want := info.Codecs(), seg.variant.Codecs; got != want {
				t.Errorf("Codecs() = %q, ffmpeg's multivariant playlist says CODECS=%q", got, want)
			}
			if info.Width != seg.variant.Width || info.Height != seg.variant.Height {
				t.Errorf("size %dx%d, ffmpeg's RESOLUTION=%dx%d", info.Width, info.Height, seg.variant.Width, seg.variant.Height)
			}
			if info.Width != seg.video.Width || info.Height != seg.video.Height {
				t.Errorf("size %dx%d, ffprobe says %dx%d", info.Width, info.Height, seg.video.Width, seg.video.Height)
			}
			if info.VideoFormat != seg.video.CodecName || info.Level != seg.video.Level {
				t.Errorf("format %s level %d, ffprobe says %s level %d", info.VideoFormat, info.Level, seg.video.CodecName, seg.video.Level)
			}
			if info.Profile != tc.wantProfile || !strings.HasSuffix(seg.video.Profile, profileNames[info.Profile]) {
				t.Errorf("profile_idc %d (want %d), ffprobe says %q", info.Profile, tc.wantProfile, seg.video.Profile)
			}
			if want := ffprobeRate(t, seg.video.RFrameRate); info.FrameRate != want {
				t.Errorf("frame rate %v, ffprobe says %s", info.FrameRate, seg.video.RFrameRate)
			}
			if info.AudioFormat != seg.audio.CodecName {
				t.Errorf("audio %q, ffprobe says %q", info.AudioFormat, seg.audio.CodecName)
			}
			if aac := map[string]string{"mp4a.40.1": "Main", "mp4a.40.2": "LC"}; info.AudioFormat == "aac" && aac[info.AudioCodec] != seg.audio.Profile {
				t.Errorf("AAC codec %s, ffprobe says profile %q", info.AudioCodec, seg.audio.Profile)
			}

			// The segment cut short: never a panic, only documented
			// errors, and once the start holds the tables and the SPS the
			// same answer as the whole segment.
			for n := 0; n < len(seg.ts); n += 1 + n/8 {
				got, err := ProbeTS(seg.ts[:n])
				if err != nil {
					checkProbeError(t, err)
					continue
				}
				if got.Codecs() != info.Codecs() || got.Width != info.Width || got.Height != info.Height {
					t.Fatalf("the first %d bytes probe as %+v, the whole segment as %+v", n, got, info)
				}
			}
		})
	}
}

// TestProbeTSRefusesFFmpegCodecsNotCarried encodes real segments of codecs
// lmx does not describe and checks ProbeTS names them.
func TestProbeTSRefusesFFmpegCodecsNotCarried(t *testing.T) {
	needFFmpeg(t)
	cases := []struct {
		name         string
		video, audio []string
		msg          string
	}{
		{"HEVC", []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"}, nil, "H.265 (HEVC) video: Apple players need fMP4"},
		{"MPEG-2 video", []string{"-c:v", "mpeg2video"}, nil, "MPEG-2 video (stream type 0x02"},
		{"Opus", []string{"-c:v", "libx264", "-preset", "ultrafast"}, []string{"-c:a", "libopus"}, "Opus audio"},
		{"AAC in LATM", []string{"-c:v", "libx264", "-preset", "ultrafast", "-hls_segment_options", "mpegts_flags=latm"}, []string{"-c:a", "aac"}, "AAC in LATM"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seg := encodeSegment(t, "320x240", "25", tc.video, tc.audio)
			info, err := ProbeTS(seg.ts)
			if !errors.Is(err, ErrUnsupportedCodec) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %+v, %v; want ErrUnsupportedCodec naming %q", info, err, tc.msg)
			}
		})
	}
}

// TestProbeTSAudioRendition probes the audio-only segments ffmpeg writes
// for an audio group (-var_stream_map a:0,agroup:…).
func TestProbeTSAudioRendition(t *testing.T) {
	ffmpeg, _ := needFFmpeg(t)
	dir := t.TempDir()
	out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine",
		"-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:v", "500k", "-b:a", "96k", "-t", "1",
		"-f", "hls", "-hls_time", "1", "-master_pl_name", "master.m3u8",
		"-var_stream_map", "a:0,agroup:aud v:0,agroup:aud", filepath.Join(dir, "%v.m3u8")).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	ts, err := os.ReadFile(filepath.Join(dir, "00.ts"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := ProbeTS(ts)
	if err != nil {
		t.Fatal(err)
	}
	if info != (StreamInfo{AudioFormat: "aac", AudioCodec: "mp4a.40.2"}) || info.Codecs() != "mp4a.40.2" {
		t.Fatalf("audio rendition probes as %+v", info)
	}
	master, err := os.ReadFile(filepath.Join(dir, "master.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(master, []byte(`CODECS="avc1.`)) || !bytes.Contains(master, []byte(`,mp4a.40.2"`)) {
		t.Fatalf("ffmpeg's playlist lists other codecs:\n%s", master)
	}
}

// spsOfSegment returns the first SPS of the segment's video stream.
func spsOfSegment(t *testing.T, ts []byte) avcSPS {
	t.Helper()
	pkts, err := tsPackets(ts)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := pmtPID(readSection(pkts, pidPAT, tablePAT))
	video, _, err := pickStreams(pmtStreams(readSection(pkts, pid, tablePMT)))
	if err != nil || video == nil {
		t.Fatalf("no video: %v", err)
	}
	c := &pesCollector{pid: video.pid}
	for i, p := range append(pkts, tsPacket{pid: video.pid, start: true}) {
		if p.pid != video.pid {
			continue
		}
		if pes, ok := c.add(p, i); ok {
			es, err := pesPayload(pes)
			if err != nil {
				t.Fatal(err)
			}
			if nal := findSPS(es); nal != nil {
				sps, err := parseSPS(nal)
				if err != nil {
					t.Fatal(err)
				}
				return sps
			}
		}
	}
	t.Fatal("no SPS")
	return avcSPS{}
}

// spsCoded names how an SPS codes its picture, for the cases' coded lists.
func spsCoded(s avcSPS) map[string]bool {
	return map[string]bool{
		"cropped": s.cropped, "fields": s.fields, "scaling": s.scalingMatrix, "vui": s.vui,
		"chroma=" + strconv.Itoa(int(s.chromaFormat)): true,
	}
}

// checkProbeError fails unless err wraps one of ProbeTS's sentinels.
func checkProbeError(t *testing.T, err error) {
	t.Helper()
	for _, s := range []error{ErrNotTS, ErrNoProgram, ErrNoMedia, ErrUnsupportedCodec, ErrNoSPS, ErrBadSPS, ErrNoAudioFrame, ErrBadPES} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("undocumented error %T: %v", err, err)
}

// TestProbeTSScalingLists covers an SPS with scaling lists, which x264
// never writes (it puts its matrices in the PPS): a real x264 stream's SPS
// gets lists spliced in — one spelled out for a 4x4 and an 8x8 block, one
// ending early, one "use the default", others absent — and ffmpeg muxes
// the result into MPEG-TS (no B-frames, so a raw stream has timestamps
// to mux with). ffprobe decodes it, so the SPS is valid, and
// ProbeTS must read past the lists to the same size and frame rate.
func TestProbeTSScalingLists(t *testing.T) {
	ffmpeg, ffprobe := needFFmpeg(t)
	dir := t.TempDir()
	raw := filepath.Join(dir, "in.h264")
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25", "-frames:v", "5",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-bf", "0", "-pix_fmt", "yuv420p", "-f", "h264", raw).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	stream, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	nal := findSPS(stream)
	if nal == nil {
		t.Fatal("no SPS in x264's stream")
	}
	spliced := append([]byte{nal[0]}, escapeRBSP(withScalingLists(t, unescapeRBSP(nal[1:])))...)
	stream = bytes.Replace(stream, nal, spliced, 1)
	if err := os.WriteFile(raw, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	ts := filepath.Join(dir, "out.ts")
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-fflags", "+genpts", "-f", "h264", "-framerate", "25", "-i", raw, "-c", "copy", "-f", "mpegts", ts).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg mux: %v\n%s", err, out)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-show_streams", "-of", "json", ts).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var probed struct{ Streams []ffprobeStream }
	if err := json.Unmarshal(out, &probed); err != nil || len(probed.Streams) != 1 {
		t.Fatalf("ffprobe output (%v):\n%s", err, out)
	}
	data, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	if sps := spsOfSegment(t, data); !sps.scalingMatrix {
		t.Fatalf("the spliced SPS has no scaling matrix: %+v", sps)
	}
	info, err := ProbeTS(data)
	if err != nil {
		t.Fatal(err)
	}
	v := probed.Streams[0]
	if info.Width != v.Width || info.Height != v.Height || info.Level != v.Level || info.FrameRate != ffprobeRate(t, v.RFrameRate) || info.VideoCodec != "avc1.64001f" {
		t.Fatalf("ProbeTS says %+v, ffprobe %+v", info, v)
	}
}

// withScalingLists returns a High profile SPS RBSP (after the NAL header)
// with seq_scaling_matrix_present_flag set and eight lists written.
func withScalingLists(t *testing.T, rbsp []byte) []byte {
	t.Helper()
	r := &bitReader{b: rbsp, pos: 24} // after profile_idc, constraints, level_idc
	r.ue()                            // seq_parameter_set_id
	if chroma := r.ue(); chroma != 1 {
		t.Fatalf("chroma_format_idc %d, want 4:2:0", chroma)
	}
	r.ue()   // bit_depth_luma_minus8
	r.ue()   // bit_depth_chroma_minus8
	r.flag() // qpprime_y_zero_transform_bypass_flag
	at := r.pos
	if r.flag() || r.overrun {
		t.Fatal("x264's SPS already has scaling lists")
	}
	// The stop bit ends the RBSP; everything after it is alignment.
	end := 8*len(rbsp) - 1
	for end >= 0 && rbsp[end/8]>>(7-end%8)&1 == 0 {
		end--
	}
	w := &bitWriter{}
	for i := 0; i < at; i++ {
		w.bit(rbsp[i/8] >> (7 - i%8) & 1)
	}
	w.bit(1) // seq_scaling_matrix_present_flag
	for i := range 8 {
		size := 16
		if i >= 6 {
			size = 64
		}
		switch i {
		case 0, 6: // spelled out: scales 16, 17, 18, … (deltas of +8, then +1)
			w.bit(1)
			w.se(8)
			for range size - 1 {
				w.se(1)
			}
		case 1: // ends early: nextScale 0 after three entries
			w.bit(1)
			w.se(4)
			w.se(4)
			w.se(-16)
		case 3: // the default list: delta to nextScale 0 at once
			w.bit(1)
			w.se(-8)
		default: // absent: fall back
			w.bit(0)
		}
	}
	for i := at + 1; i < end; i++ {
		w.bit(rbsp[i/8] >> (7 - i%8) & 1)
	}
	w.bit(1) // rbsp_stop_one_bit
	for w.n%8 != 0 {
		w.bit(0)
	}
	return w.b
}

// bitWriter writes bits and Exp-Golomb codes, for building SPS in tests.
type bitWriter struct {
	b []byte
	n int // bits written
}

func (w *bitWriter) bit(c byte) {
	if w.n%8 == 0 {
		w.b = append(w.b, 0)
	}
	w.b[len(w.b)-1] |= (c & 1) << (7 - w.n%8)
	w.n++
}

func (w *bitWriter) u(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		w.bit(byte(v >> i & 1))
	}
}

func (w *bitWriter) ue(v uint64) {
	x := v + 1
	n := 0
	for y := x; y > 1; y >>= 1 {
		n++
	}
	w.u(0, n)
	w.u(x, n+1)
}

func (w *bitWriter) se(v int64) {
	if v > 0 {
		w.ue(uint64(2*v - 1))
	} else {
		w.ue(uint64(-2 * v))
	}
}

// escapeRBSP inserts emulation prevention bytes: a 0x03 after every two
// zero bytes followed by a byte of 0x03 or less.
func escapeRBSP(rbsp []byte) []byte {
	var out []byte
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}
