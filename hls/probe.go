package hls

import "fmt"

// StreamInfo is what a multivariant playlist needs to know about a
// variant, read from one of its MPEG-TS segments by ProbeTS.
type StreamInfo struct {
	// VideoFormat is the video codec's name as ffprobe gives it: "h264";
	// "" for a segment with audio only.
	VideoFormat string
	// VideoCodec is the RFC 6381 codec string, "avc1.PPCCLL" from the SPS:
	// profile_idc, the constraint flags byte and level_idc in lower-case
	// hex, as ffmpeg writes it; "" for a segment with audio only.
	VideoCodec string
	// Profile is profile_idc (66 baseline, 77 main, 100 high, …).
	Profile int
	// Level is level_idc, ten times the level (31 is level 3.1), as
	// ffprobe's "level".
	Level int
	// Width and Height are the displayed picture size in pixels, after
	// the SPS's frame cropping.
	Width, Height int
	// FrameRate is frames per second from the SPS's VUI timing, 0 when
	// the SPS does not say.
	FrameRate float64
	// AudioFormat is the audio codec's name as ffprobe gives it ("aac",
	// "mp3", "mp2", "ac3", "eac3"), "" when the segment has no audio.
	AudioFormat string
	// AudioCodec is the RFC 6381 codec string ("mp4a.40.2", "mp4a.40.34",
	// "ac-3", "ec-3"), "" when the segment has no audio.
	AudioCodec string
}

// Codecs returns the CODECS attribute value for the variant: the video
// and audio codec strings joined by a comma, as ffmpeg writes them
// ("avc1.64001f,mp4a.40.2").
func (s StreamInfo) Codecs() string {
	switch {
	case s.AudioCodec == "":
		return s.VideoCodec
	case s.VideoCodec == "":
		return s.AudioCodec
	}
	return s.VideoCodec + "," + s.AudioCodec
}

// maxPESHead bounds how much of each PES packet ProbeTS gathers: the SPS
// and the audio frame header are at the start of their PES packets, and a
// key frame's PES can be megabytes.
const maxPESHead = 256 << 10

// ProbeTS reads one MPEG-TS segment as ffmpeg writes it and returns what a
// multivariant playlist needs: the H.264 codec string, picture size and
// frame rate from the first sequence parameter set, and the audio codec
// from the first audio frame header (AAC in ADTS, MP3/MP2) or the stream
// type (AC-3, E-AC-3). It follows PAT → first program's PMT → the first
// video and first audio elementary stream → their PES packets.
//
// A segment with audio only (an audio rendition, as ffmpeg writes for a
// -var_stream_map agroup) probes fine with the video fields empty; a
// caller that needs video checks VideoCodec.
//
// The work is one pass over the packets per table plus one over the
// media, and memory is bounded by maxPESHead per stream, so a hostile
// segment costs no more than a real one of its size. A partial packet at
// the end is ignored, so a truncated segment probes as long as its start
// holds the tables and the SPS.
//
// Errors wrap ErrNotTS, ErrNoProgram, ErrNoMedia, ErrUnsupportedCodec
// (H.265/HEVC in MPEG-TS among others: Apple players need fMP4 for HEVC,
// so lmx does not carry it in MPEG-TS), ErrNoSPS, ErrBadSPS,
// ErrNoAudioFrame or ErrBadPES.
func ProbeTS(data []byte) (StreamInfo, error) {
	pkts, err := tsPackets(data)
	if err != nil {
		return StreamInfo{}, err
	}
	pat := readSection(pkts, pidPAT, tablePAT)
	if pat == nil {
		return StreamInfo{}, fmt.Errorf("%w: no complete PAT with a valid CRC in %d packets", ErrNoProgram, len(pkts))
	}
	pmtPid, ok := pmtPID(pat)
	if !ok {
		return StreamInfo{}, fmt.Errorf("%w: the PAT lists no program", ErrNoProgram)
	}
	pmt := readSection(pkts, pmtPid, tablePMT)
	if pmt == nil {
		return StreamInfo{}, fmt.Errorf("%w: no complete PMT with a valid CRC on PID %#x", ErrNoProgram, pmtPid)
	}
	video, audio, err := pickStreams(pmtStreams(pmt))
	if err != nil {
		return StreamInfo{}, err
	}
	return probeStreams(pkts, video, audio)
}

// Stream types (ISO/IEC 13818-1 table 2-34, and ATSC A/52 for AC-3).
const (
	streamMPEG1Video = 0x01
	streamMPEG2Video = 0x02
	streamMPEG1Audio = 0x03
	streamMPEG2Audio = 0x04
	streamPrivate    = 0x06
	streamADTS       = 0x0f
	streamMPEG4Video = 0x10
	streamLATM       = 0x11
	streamH264       = 0x1b
	streamHEVC       = 0x24
	streamVVC        = 0x33
	streamAC3        = 0x81
	streamDTS        = 0x82
	streamTrueHD     = 0x83
	streamEAC3       = 0x87
	streamVC1        = 0xea
)

// Descriptor tags in PMT stream loops for private data streams.
const (
	descRegistration = 0x05 // format_identifier, four characters
	descDVBAC3       = 0x6a
	descDVBEAC3      = 0x7a
	descDVBDTS       = 0x7b
)

// videoTypes names the video stream types lmx refuses, for the message.
var videoTypes = map[byte]string{
	streamMPEG1Video: "MPEG-1 video", streamMPEG2Video: "MPEG-2 video", streamMPEG4Video: "MPEG-4 Part 2 video",
	streamVVC: "H.266 (VVC) video", streamVC1: "VC-1 video",
	streamHEVC: "H.265 (HEVC) video: Apple players need fMP4 segments for HEVC, so lmx does not carry it in MPEG-TS; push H.264",
}

// esKind is what ProbeTS makes of one elementary stream.
type esKind int

const (
	esOther esKind = iota // data, subtitles, ID3, SCTE-35: not described
	esH264
	esVideoUnsupported
	esADTS
	esMPEGAudio
	esAC3
	esEAC3
	esAudioUnsupported
)

// classify says what an elementary stream carries and, for a codec lmx
// does not describe, its name.
func classify(es esInfo) (esKind, string) {
	switch es.streamType {
	case streamH264:
		return esH264, ""
	case streamADTS:
		return esADTS, ""
	case streamMPEG1Audio, streamMPEG2Audio:
		return esMPEGAudio, ""
	case streamAC3:
		return esAC3, ""
	case streamEAC3:
		return esEAC3, ""
	case streamLATM:
		return esAudioUnsupported, "AAC in LATM (stream type 0x11)"
	case streamDTS:
		return esAudioUnsupported, "DTS audio"
	case streamTrueHD:
		return esAudioUnsupported, "Dolby TrueHD audio"
	case streamPrivate:
		// DVB and ffmpeg's -mpegts_flags system_b carry AC-3 and E-AC-3
		// as private data with a descriptor; Opus has a registration.
		if _, ok := descriptor(es.descriptors, descDVBAC3); ok {
			return esAC3, ""
		}
		if _, ok := descriptor(es.descriptors, descDVBEAC3); ok {
			return esEAC3, ""
		}
		if _, ok := descriptor(es.descriptors, descDVBDTS); ok {
			return esAudioUnsupported, "DTS audio"
		}
		if reg, ok := descriptor(es.descriptors, descRegistration); ok && len(reg) >= 4 {
			switch string(reg[:4]) {
			case "AC-3":
				return esAC3, ""
			case "EAC3":
				return esEAC3, ""
			case "Opus":
				return esAudioUnsupported, "Opus audio (no player takes it in MPEG-TS segments; push AAC)"
			case "HEVC":
				return esVideoUnsupported, videoTypes[streamHEVC]
			}
		}
		return esOther, ""
	}
	if name, ok := videoTypes[es.streamType]; ok {
		return esVideoUnsupported, name
	}
	return esOther, ""
}

// pickStreams chooses the first video stream (H.264) and the first audio
// stream of the program; either may be missing (nil), not both.
func pickStreams(streams []esInfo) (video, audio *esInfo, err error) {
	for _, es := range streams {
		kind, name := classify(es)
		switch kind {
		case esH264, esVideoUnsupported:
			if video != nil {
				continue
			}
			if kind == esVideoUnsupported {
				return nil, nil, fmt.Errorf("%w: %s (stream type %#02x, PID %#x)", ErrUnsupportedCodec, name, es.streamType, es.pid)
			}
			v := es
			video = &v
		case esADTS, esMPEGAudio, esAC3, esEAC3, esAudioUnsupported:
			if audio != nil {
				continue
			}
			if kind == esAudioUnsupported {
				return nil, nil, fmt.Errorf("%w: %s (stream type %#02x, PID %#x)", ErrUnsupportedCodec, name, es.streamType, es.pid)
			}
			a := es
			audio = &a
		}
	}
	if video == nil && audio == nil {
		return nil, nil, fmt.Errorf("%w: the PMT lists %d streams, none of them video or audio", ErrNoMedia, len(streams))
	}
	return video, audio, nil
}

// pesCollector gathers the head of the PES packet in progress on one PID.
type pesCollector struct {
	pid      uint16
	buf      []byte
	started  bool
	packets  int // PES packets seen complete or cut off
	firstPkt int // index of the packet the current PES started in
}

// add feeds one packet; it returns the PES packet just completed, if any.
func (c *pesCollector) add(p tsPacket, index int) ([]byte, bool) {
	var done []byte
	ok := false
	if p.start {
		if c.started {
			done, ok = c.buf, true
			c.packets++
		}
		c.buf, c.started, c.firstPkt = append([]byte(nil), p.payload...), true, index
		return done, ok
	}
	if c.started && len(c.buf) < maxPESHead {
		c.buf = append(c.buf, p.payload[:min(len(p.payload), maxPESHead-len(c.buf))]...)
	}
	return nil, false
}

// flush returns the PES packet cut off by the end of the segment.
func (c *pesCollector) flush() ([]byte, bool) {
	if !c.started {
		return nil, false
	}
	c.started = false
	c.packets++
	return c.buf, true
}

// probeStreams reads the PES packets of the chosen streams until the SPS
// and the audio codec are known.
func probeStreams(pkts []tsPacket, video, audio *esInfo) (StreamInfo, error) {
	var info StreamInfo
	videoDone, audioDone := video == nil, false
	if audio == nil {
		audioDone = true
	} else {
		switch kind, _ := classify(*audio); kind {
		case esAC3:
			info.AudioFormat, info.AudioCodec, audioDone = codecAC3.format, codecAC3.codec, true
		case esEAC3:
			info.AudioFormat, info.AudioCodec, audioDone = codecEAC3.format, codecEAC3.codec, true
		}
	}
	var vc, ac *pesCollector
	if !videoDone {
		vc = &pesCollector{pid: video.pid}
	}
	if !audioDone {
		ac = &pesCollector{pid: audio.pid}
	}
	var firstErr error

	// handle looks at one complete (or cut-off) PES packet.
	handle := func(c *pesCollector, pes []byte) {
		es, err := pesPayload(pes)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: PID %#x, PES starting in packet %d: %v", ErrBadPES, c.pid, c.firstPkt, err)
			}
			return
		}
		if c == vc {
			nal := findSPS(es)
			if nal == nil {
				return
			}
			sps, err := parseSPS(nal)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			info.VideoFormat, info.VideoCodec, info.Profile, info.Level = "h264", sps.codec(), int(sps.profile), int(sps.level)
			info.Width, info.Height, info.FrameRate = sps.width, sps.height, sps.frameRate
			videoDone = true
			return
		}
		var a audioCodec
		var ok bool
		if audio.streamType == streamADTS {
			if isLATM(es) {
				firstErr = fmt.Errorf("%w: AAC in LATM (ffmpeg -mpegts_flags latm) on PID %#x; push AAC in ADTS, ffmpeg's default", ErrUnsupportedCodec, c.pid)
				return
			}
			a, ok = adtsCodec(es)
		} else {
			a, ok = mpegAudioCodec(es)
		}
		if ok {
			info.AudioFormat, info.AudioCodec, audioDone = a.format, a.codec, true
		}
	}

	for i, p := range pkts {
		if videoDone && audioDone || firstErr != nil {
			break
		}
		if len(p.payload) == 0 {
			continue
		}
		switch {
		case vc != nil && p.pid == vc.pid && !videoDone:
			if pes, ok := vc.add(p, i); ok {
				handle(vc, pes)
			}
		case ac != nil && p.pid == ac.pid && !audioDone:
			if pes, ok := ac.add(p, i); ok {
				handle(ac, pes)
			}
		}
	}
	if !videoDone && vc != nil && firstErr == nil {
		if pes, ok := vc.flush(); ok {
			handle(vc, pes)
		}
	}
	if !audioDone && ac != nil && firstErr == nil {
		if pes, ok := ac.flush(); ok {
			handle(ac, pes)
		}
	}
	switch {
	case firstErr != nil:
		return StreamInfo{}, firstErr
	case !videoDone:
		return StreamInfo{}, fmt.Errorf("%w: the video stream (PID %#x) carries none in its %d PES packets; a segment must start with a key frame",
			ErrNoSPS, vc.pid, vc.packets)
	case !audioDone:
		return StreamInfo{}, fmt.Errorf("%w: the audio stream (PID %#x, stream type %#02x) has no frame header in its %d PES packets",
			ErrNoAudioFrame, ac.pid, audio.streamType, ac.packets)
	}
	return info, nil
}
