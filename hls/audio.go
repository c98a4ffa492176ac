package hls

import "fmt"

// audioCodec is an audio stream's ffprobe-style format name and its
// RFC 6381 codec string.
type audioCodec struct {
	format string // "aac", "mp3", "mp2", "mp1", "ac3", "eac3"
	codec  string // "mp4a.40.2", "mp4a.40.34", "ac-3", …
}

// Fixed codecs: the stream type alone names them.
var (
	codecAC3  = audioCodec{format: "ac3", codec: "ac-3"}
	codecEAC3 = audioCodec{format: "eac3", codec: "ec-3"}
)

// adtsCodec returns the codec of the ADTS header (ISO/IEC 13818-7 6.2)
// at the start of an AAC elementary stream, as ffmpeg starts every audio
// PES packet with a frame. When the frame is followed by more bytes, they
// must start with another ADTS syncword, so a PES that merely contains 0xFFF
// somewhere is not taken for AAC. The 2-bit profile field is the MPEG-4
// audio object type minus one, so profile 1 (LC) is "mp4a.40.2", as
// ffmpeg writes it. ADTS cannot signal SBR or PS: HE-AAC with implicit
// signalling reads as its AAC-LC core ("mp4a.40.2"), which every HE-AAC
// decoder also plays.
func adtsCodec(es []byte) (audioCodec, bool) {
	if !isADTSHeader(es) {
		return audioCodec{}, false
	}
	frameLen := int(es[3]&0x03)<<11 | int(es[4])<<3 | int(es[5]>>5)
	if frameLen < 7 {
		return audioCodec{}, false
	}
	if next := es[min(frameLen, len(es)):]; len(next) >= 2 && (next[0] != 0xff || next[1]&0xf6 != 0xf0) {
		return audioCodec{}, false
	}
	profile := es[2] >> 6
	return audioCodec{format: "aac", codec: fmt.Sprintf("mp4a.40.%d", profile+1)}, true
}

// isADTSHeader reports whether b starts with an ADTS header: syncword
// 0xFFF, layer 00, a sampling_frequency_index that is not reserved.
func isADTSHeader(b []byte) bool {
	return len(b) >= 7 && b[0] == 0xff && b[1]&0xf6 == 0xf0 && b[2]>>2&0x0f <= 12
}

// isLATM reports whether b starts with a LATM/LOAS AudioSyncStream frame
// (ISO/IEC 14496-3 1.7.2, syncword 0x2B7): AAC the way ffmpeg's
// -mpegts_flags latm writes it, under the ADTS stream type.
func isLATM(b []byte) bool {
	return len(b) >= 3 && b[0] == 0x56 && b[1]&0xe0 == 0xe0
}

// mpegAudioCodec returns the codec of the MPEG-1/2 audio frame header
// (ISO/IEC 11172-3 2.4.1.3) at the start of the elementary stream: layer
// III is "mp4a.40.34", layer II "mp4a.40.33", layer I "mp4a.40.32" (the
// MPEG-4 audio object types 34, 33, 32; ffmpeg's hls muxer writes the
// same).
func mpegAudioCodec(es []byte) (audioCodec, bool) {
	if len(es) < 4 || es[0] != 0xff || es[1]&0xe0 != 0xe0 { // 11-bit frame sync
		return audioCodec{}, false
	}
	version := es[1] >> 3 & 3
	layer := es[1] >> 1 & 3
	bitrate := es[2] >> 4
	rate := es[2] >> 2 & 3
	if version == 1 || layer == 0 || bitrate == 15 || rate == 3 { // reserved values
		return audioCodec{}, false
	}
	switch layer {
	case 1:
		return audioCodec{format: "mp3", codec: "mp4a.40.34"}, true
	case 2:
		return audioCodec{format: "mp2", codec: "mp4a.40.33"}, true
	default:
		return audioCodec{format: "mp1", codec: "mp4a.40.32"}, true
	}
}
