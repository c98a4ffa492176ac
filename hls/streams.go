package hls

import "fmt"

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
