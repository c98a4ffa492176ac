package edged

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/lmx-video/lmx/internal/pullurl"
	"github.com/lmx-video/lmx/internal/redact"
)

// Pull defaults.
const (
	// defaultPullSegmentLen is the segment length a pull cuts when the
	// desired state names none (LiveMix's examples use 2 s).
	defaultPullSegmentLen = 2
	// pullListSize is how many segments ffmpeg keeps in the playlist it
	// pushes (and on disk, with delete_segments): enough for the edge to
	// read each one before ffmpeg deletes it.
	pullListSize = 6
	// pullIOTimeout bounds one read from the camera, so a camera that goes
	// silent makes ffmpeg fail instead of hang (the stall watch is the net
	// under it).
	pullIOTimeout = 10_000_000 // microseconds, as ffmpeg counts them
)

// probeStream is one stream ffprobe found at the camera.
type probeStream struct {
	// Type is "video", "audio", "data" or "subtitle".
	Type string `json:"codec_type"`
	// Codec is ffmpeg's codec name ("h264", "hevc", "pcm_alaw").
	Codec string `json:"codec_name"`
}

// pullPlan is what the edge carries of a camera's streams, decided from a
// probe: the codecs reported, whether audio goes along, what the operator
// is told, and, when nothing can be carried, why.
type pullPlan struct {
	video, audio string
	// mapAudio is true when the first audio stream is carried.
	mapAudio bool
	warnings []string
	// refused, when set, is why ffmpeg is not run at all.
	refused string
}

// carriedAudio are the audio codecs HLS players play from MPEG-TS.
var carriedAudio = map[string]bool{"aac": true, "mp3": true, "ac3": true, "eac3": true}

// audioNames gives the codecs operators know by another name.
var audioNames = map[string]string{"pcm_alaw": "G.711 A-law", "pcm_mulaw": "G.711 µ-law", "adpcm_g726": "G.726", "g722": "G.722", "opus": "Opus", "pcm_s16be": "LPCM", "pcm_s16le": "LPCM"}

// decidePull chooses what to carry of the streams a camera sends. lmx
// never transcodes (-c copy), so what no HLS player plays is refused
// (video) or dropped (audio), and said so.
func decidePull(streams []probeStream) pullPlan {
	var p pullPlan
	audioSeen := ""
	for _, s := range streams {
		switch s.Type {
		case "video":
			if p.video == "" {
				p.video = s.Codec
			}
		case "audio":
			if audioSeen == "" {
				audioSeen = s.Codec
			}
		}
	}
	switch p.video {
	case "h264":
	case "hevc", "h265":
		p.video = "h265"
		p.refused = "the camera sends H.265 (HEVC) video: Apple players need fMP4 segments for H.265 and camera pulls are written as MPEG-TS (pulling into fMP4 is not built yet); set the camera's stream to H.264"
		return p
	case "":
		p.refused = "the camera sends no video stream"
		if audioSeen != "" {
			p.refused += " (only " + audioSeen + " audio)"
		}
		return p
	default:
		p.refused = fmt.Sprintf("the camera sends %s video, which HLS players do not play and lmx does not transcode; set the camera's stream to H.264", p.video)
		return p
	}
	switch {
	case audioSeen == "":
	case carriedAudio[audioSeen]:
		p.audio, p.mapAudio = audioSeen, true
	default:
		name := audioSeen
		if n, ok := audioNames[audioSeen]; ok {
			name = n + " (" + audioSeen + ")"
		}
		p.warnings = append(p.warnings, fmt.Sprintf("audio dropped: the camera sends %s, which HLS players do not play; set the camera's audio to AAC to keep sound", name))
	}
	return p
}

// pullInputArgs are the options that open the camera for ffmpeg and
// ffprobe alike: network protocols only, TCP for RTSP (RTP over UDP is
// lost behind NAT and on Wi-Fi), and an I/O timeout.
func pullInputArgs(raw string) []string {
	// Two seconds of analysis are enough to find a camera's streams and
	// keep a (re)start quick; ffmpeg's 5 s default would add to every one.
	args := []string{"-protocol_whitelist", pullurl.ProtocolWhitelist(raw), "-analyzeduration", "2000000"}
	switch pullScheme(raw) {
	case "rtsp", "rtsps":
		// The RTSP demuxer opens its own connections: its -timeout is the
		// socket I/O timeout (ffmpeg 5 renamed -stimeout to it).
		args = append(args, "-rtsp_transport", "tcp", "-timeout", strconv.Itoa(pullIOTimeout))
	default:
		args = append(args, "-rw_timeout", strconv.Itoa(pullIOTimeout))
	}
	return args
}

func pullScheme(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme)
}

// pullFFmpegArgs is the ffmpeg command line of a pull: read the camera,
// copy what the plan carries, and push HLS to the edge's own listener
// exactly as LiveMix's command does (the same headers, POST per playlist),
// with segments in dir, which ffmpeg also deletes (delete_segments).
func pullFFmpegArgs(source, raw, dir, pushURL string, segLen int, plan pullPlan) []string {
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "level+warning"}
	args = append(args, pullInputArgs(raw)...)
	args = append(args, "-i", raw, "-map", "0:v:0")
	if plan.mapAudio {
		args = append(args, "-map", "0:a:0")
	} else {
		args = append(args, "-an")
	}
	return append(args,
		"-c", "copy", "-sn", "-dn",
		"-f", "hls", "-hls_time", strconv.Itoa(segLen), "-hls_list_size", strconv.Itoa(pullListSize),
		"-hls_flags", "delete_segments+independent_segments",
		"-hls_segment_filename", dir+"/seg_%05d.ts",
		"-headers", HeaderSourceName+": "+source+"\r\n"+HeaderURIPrefix+": file://"+dir+"\r\n",
		"-method", "POST", pushURL)
}

// maskArgs is args as they may be logged: the camera URL's secrets hidden.
func maskArgs(args []string, raw string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == raw {
			out[i] = redact.URL(raw)
		} else {
			out[i] = redact.Line(a, raw)
		}
	}
	return out
}

// gopWarning says that segments come out longer than asked, which is the
// camera's keyframe interval: ffmpeg cuts at keyframes only, and -c copy
// cannot add any.
func gopWarning(longest float64, segLen int) string {
	return fmt.Sprintf("segments last up to %.1f s where %d s was asked, so EXTINF exceeds the target duration: the camera's keyframe interval (GOP) is longer than the segment length; set it to at most %d s, or raise segment_len to %d",
		longest, segLen, segLen, int(math.Ceil(longest)))
}

// overlong reports whether a segment of d seconds breaks a target
// duration of segLen (RFC 8216: EXTINF rounded must not exceed it).
func overlong(d float64, segLen int) bool { return math.Round(d) > float64(segLen) }
