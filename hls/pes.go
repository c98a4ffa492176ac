package hls

import "fmt"

// maxPESHead bounds how much of each PES packet ProbeTS gathers: the SPS
// and the audio frame header are at the start of their PES packets, and a
// key frame's PES can be megabytes.
const maxPESHead = 256 << 10

// pesPayload returns the elementary stream bytes of a PES packet's start
// (ISO/IEC 13818-1 2.4.3.6), or nil for the stream ids that carry no
// media (padding, private_stream_2, maps, directories).
func pesPayload(pes []byte) ([]byte, error) {
	if len(pes) < 9 || pes[0] != 0 || pes[1] != 0 || pes[2] != 1 {
		return nil, fmt.Errorf("no PES start code")
	}
	switch pes[3] {
	case 0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff:
		return nil, nil
	}
	if pes[6]&0xc0 != 0x80 {
		return nil, fmt.Errorf("PES header marker bits are %#02x, not '10'", pes[6]>>6)
	}
	start := 9 + int(pes[8])
	if start > len(pes) {
		return nil, fmt.Errorf("PES header of %d bytes runs past the packet", start)
	}
	return pes[start:], nil
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

// streamProber reads the PES packets of the chosen streams until the SPS
// and the audio codec are known, or the first error.
type streamProber struct {
	info         StreamInfo
	video, audio *pesCollector // nil when absent or already known
	audioType    byte
	videoDone    bool
	audioDone    bool
	err          error
}

// probeStreams runs a streamProber over the packets.
func probeStreams(pkts []tsPacket, video, audio *esInfo) (StreamInfo, error) {
	p := &streamProber{videoDone: video == nil, audioDone: audio == nil}
	if video != nil {
		p.video = &pesCollector{pid: video.pid}
	}
	if audio != nil {
		p.audioType = audio.streamType
		// AC-3 and E-AC-3 are known from the stream type alone.
		switch kind, _ := classify(*audio); kind {
		case esAC3:
			p.info.AudioFormat, p.info.AudioCodec, p.audioDone = codecAC3.format, codecAC3.codec, true
		case esEAC3:
			p.info.AudioFormat, p.info.AudioCodec, p.audioDone = codecEAC3.format, codecEAC3.codec, true
		default:
			p.audio = &pesCollector{pid: audio.pid}
		}
	}
	for i, pkt := range pkts {
		if p.videoDone && p.audioDone || p.err != nil {
			break
		}
		if len(pkt.payload) == 0 {
			continue
		}
		switch {
		case !p.videoDone && pkt.pid == p.video.pid:
			if pes, ok := p.video.add(pkt, i); ok {
				p.videoPES(pes)
			}
		case !p.audioDone && pkt.pid == p.audio.pid:
			if pes, ok := p.audio.add(pkt, i); ok {
				p.audioPES(pes)
			}
		}
	}
	// The PES packets the segment's end cut off.
	if !p.videoDone && p.err == nil {
		if pes, ok := p.video.flush(); ok {
			p.videoPES(pes)
		}
	}
	if !p.audioDone && p.err == nil {
		if pes, ok := p.audio.flush(); ok {
			p.audioPES(pes)
		}
	}
	switch {
	case p.err != nil:
		return StreamInfo{}, p.err
	case !p.videoDone:
		return StreamInfo{}, fmt.Errorf("%w: the video stream (PID %#x) carries none in its %d PES packets; a segment must start with a key frame",
			ErrNoSPS, p.video.pid, p.video.packets)
	case !p.audioDone:
		return StreamInfo{}, fmt.Errorf("%w: the audio stream (PID %#x, stream type %#02x) has no frame header in its %d PES packets",
			ErrNoAudioFrame, p.audio.pid, p.audioType, p.audio.packets)
	}
	return p.info, nil
}

// payload returns the elementary stream bytes of a PES packet, or nil
// after recording why there are none.
func (p *streamProber) payload(c *pesCollector, pes []byte) []byte {
	es, err := pesPayload(pes)
	if err != nil {
		p.err = fmt.Errorf("%w: PID %#x, PES starting in packet %d: %v", ErrBadPES, c.pid, c.firstPkt, err)
	}
	return es
}

// videoPES looks for the SPS in one video PES packet.
func (p *streamProber) videoPES(pes []byte) {
	nal := findSPS(p.payload(p.video, pes))
	if nal == nil {
		return
	}
	sps, err := parseSPS(nal)
	if err != nil {
		p.err = err
		return
	}
	p.info.VideoFormat, p.info.VideoCodec, p.info.Profile, p.info.Level = "h264", sps.codec(), int(sps.profile), int(sps.level)
	p.info.Width, p.info.Height, p.info.FrameRate = sps.width, sps.height, sps.frameRate
	p.videoDone = true
}

// audioPES looks for the frame header at the start of one audio PES
// packet.
func (p *streamProber) audioPES(pes []byte) {
	es := p.payload(p.audio, pes)
	var a audioCodec
	var ok bool
	if p.audioType == streamADTS {
		if isLATM(es) {
			p.err = fmt.Errorf("%w: AAC in LATM (ffmpeg -mpegts_flags latm) on PID %#x; push AAC in ADTS, ffmpeg's default", ErrUnsupportedCodec, p.audio.pid)
			return
		}
		a, ok = adtsCodec(es)
	} else {
		a, ok = mpegAudioCodec(es)
	}
	if ok {
		p.info.AudioFormat, p.info.AudioCodec, p.audioDone = a.format, a.codec, true
	}
}
