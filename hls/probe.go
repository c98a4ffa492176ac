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

// Resolution is WIDTHxHEIGHT, "" when the segment has no video.
func (s StreamInfo) Resolution() string {
	if s.Width <= 0 || s.Height <= 0 {
		return ""
	}
	return fmt.Sprintf("%dx%d", s.Width, s.Height)
}

// TSProber probes MPEG-TS segments with ProbeTS, for what a multivariant
// playlist says of a variant. An fMP4 segment (its init segment first) is
// not probed: it answers nothing and no error.
type TSProber struct{}

// Probe returns the resolution and codecs of the media in data.
func (TSProber) Probe(data []byte) (resolution, codecs string, err error) {
	if len(data) == 0 || data[0] != tsSyncByte {
		return "", "", nil
	}
	si, err := ProbeTS(data)
	if err != nil {
		return "", "", err
	}
	return si.Resolution(), si.Codecs(), nil
}
