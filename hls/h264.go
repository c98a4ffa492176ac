package hls

import (
	"bytes"
	"fmt"
)

// H.264 NAL unit types ProbeTS looks at.
const nalSPS = 7

// maxSPSBytes bounds the sequence parameter set NAL unit ProbeTS parses:
// one with every scaling list spelled out is still under 1 KiB.
const maxSPSBytes = 4096

// avcSPS is what a sequence parameter set (H.264 7.3.2.1.1) tells a
// multivariant playlist.
type avcSPS struct {
	profile, constraints, level byte
	width, height               int
	// frameRate is from the VUI timing information, 0 when absent.
	frameRate float64

	// How the picture is coded, kept so tests can tell which paths of
	// the parser a stream took.
	chromaFormat  uint32 // chroma_format_idc: 0 mono, 1 4:2:0, 2 4:2:2, 3 4:4:4
	fields        bool   // !frame_mbs_only_flag: coded as fields
	scalingMatrix bool   // seq_scaling_matrix_present_flag
	cropped       bool   // frame_cropping_flag
	vui           bool   // vui_parameters_present_flag
}

// codec is the RFC 6381 codec string, written as ffmpeg's hls muxer
// writes it: "avc1." and profile_idc, the constraint flags byte and
// level_idc in lower-case hex.
func (s avcSPS) codec() string {
	return fmt.Sprintf("avc1.%02x%02x%02x", s.profile, s.constraints, s.level)
}

// highProfiles are the profile_idc values whose SPS carries
// chroma_format_idc, bit depths and scaling lists (H.264 7.3.2.1.1).
var highProfiles = map[byte]bool{100: true, 110: true, 122: true, 244: true, 44: true, 83: true, 86: true, 118: true, 128: true, 138: true, 139: true, 134: true, 135: true}

// findSPS returns the first sequence parameter set NAL unit in an Annex B
// byte stream (start-code separated NAL units), with its header byte and
// emulation prevention bytes still in, or nil.
func findSPS(es []byte) []byte {
	for len(es) > 0 {
		i := bytes.Index(es, []byte{0, 0, 1})
		if i < 0 {
			return nil
		}
		es = es[i+3:]
		end := bytes.Index(es, []byte{0, 0, 1})
		if end < 0 {
			end = len(es)
		}
		nal := bytes.TrimRight(es[:end], "\x00") // trailing_zero_8bits and a 4-byte start code's 0
		if len(nal) > 0 && nal[0]&0x80 == 0 && nal[0]&0x1f == nalSPS {
			return nal
		}
		es = es[end:]
	}
	return nil
}

// parseSPS reads a sequence parameter set NAL unit (header byte first).
// It reads up to the VUI timing information and stops there: nothing
// after it matters to a playlist. A malformed VUI only loses the frame
// rate, which is optional; a malformed picture size is an error.
func parseSPS(nal []byte) (avcSPS, error) {
	var s avcSPS
	if len(nal) > maxSPSBytes {
		return s, fmt.Errorf("%w: SPS is %d bytes, more than %d", ErrBadSPS, len(nal), maxSPSBytes)
	}
	rbsp := unescapeRBSP(nal[1:])
	if len(rbsp) < 4 {
		return s, fmt.Errorf("%w: SPS of %d bytes is truncated", ErrBadSPS, len(nal))
	}
	s.profile, s.constraints, s.level = rbsp[0], rbsp[1], rbsp[2]
	r := &bitReader{b: rbsp[3:]}
	bad := func(format string, args ...any) (avcSPS, error) {
		return avcSPS{}, fmt.Errorf("%w: profile_idc %d: %s", ErrBadSPS, s.profile, fmt.Sprintf(format, args...))
	}
	if id := r.ue(); id > 31 {
		return bad("seq_parameter_set_id %d is above 31", id)
	}
	chroma := uint32(1) // 4:2:0 unless a high profile says otherwise
	separatePlanes := false
	if highProfiles[s.profile] {
		if chroma = r.ue(); chroma > 3 {
			return bad("chroma_format_idc %d is above 3", chroma)
		}
		if chroma == 3 {
			separatePlanes = r.flag()
		}
		if d := r.ue(); d > 6 {
			return bad("bit_depth_luma_minus8 %d is above 6", d)
		}
		if d := r.ue(); d > 6 {
			return bad("bit_depth_chroma_minus8 %d is above 6", d)
		}
		r.flag() // qpprime_y_zero_transform_bypass_flag
		if s.scalingMatrix = r.flag(); s.scalingMatrix {
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := range lists {
				if r.flag() { // seq_scaling_list_present_flag[i]
					size := 16
					if i >= 6 {
						size = 64
					}
					skipScalingList(r, size)
				}
			}
		}
	}
	if v := r.ue(); v > 12 {
		return bad("log2_max_frame_num_minus4 %d is above 12", v)
	}
	switch poc := r.ue(); poc {
	case 0:
		if v := r.ue(); v > 12 {
			return bad("log2_max_pic_order_cnt_lsb_minus4 %d is above 12", v)
		}
	case 1:
		r.flag() // delta_pic_order_always_zero_flag
		r.se()   // offset_for_non_ref_pic
		r.se()   // offset_for_top_to_bottom_field
		n := r.ue()
		if n > 255 {
			return bad("num_ref_frames_in_pic_order_cnt_cycle %d is above 255", n)
		}
		for range n {
			r.se() // offset_for_ref_frame[i]
		}
	case 2:
	default:
		return bad("pic_order_cnt_type %d is above 2", poc)
	}
	r.ue()   // max_num_ref_frames
	r.flag() // gaps_in_frame_num_value_allowed_flag
	widthMbs := int64(r.ue()) + 1
	heightMapUnits := int64(r.ue()) + 1
	frameMbsOnly := r.flag()
	if !frameMbsOnly {
		r.flag() // mb_adaptive_frame_field_flag
	}
	r.flag() // direct_8x8_inference_flag
	var cropL, cropR, cropT, cropB int64
	if s.cropped = r.flag(); s.cropped {
		cropL, cropR, cropT, cropB = int64(r.ue()), int64(r.ue()), int64(r.ue()), int64(r.ue())
	}
	if r.overrun {
		return bad("truncated before the end of the picture size")
	}

	// H.264 7.4.2.1.1: the frame is (2 - frame_mbs_only_flag) map units
	// high per macroblock row, and cropping counts in chroma samples
	// (and in field lines when fields are coded).
	fieldFactor := int64(2)
	if frameMbsOnly {
		fieldFactor = 1
	}
	cropX, cropY := int64(1), fieldFactor // ChromaArrayType 0 (monochrome or separate planes)
	if !separatePlanes && chroma != 0 {
		subW, subH := int64(2), int64(2) // 4:2:0
		switch chroma {
		case 2: // 4:2:2
			subH = 1
		case 3: // 4:4:4
			subW, subH = 1, 1
		}
		cropX, cropY = subW, subH*fieldFactor
	}
	w := widthMbs*16 - cropX*(cropL+cropR)
	h := fieldFactor*heightMapUnits*16 - cropY*(cropT+cropB)
	if w < 1 || h < 1 || w > maxResolution || h > maxResolution {
		return bad("picture of %dx%d (%d×%d macroblocks, cropped %d,%d,%d,%d) is outside 1..%d",
			w, h, widthMbs, heightMapUnits*fieldFactor, cropL, cropR, cropT, cropB, maxResolution)
	}
	s.width, s.height = int(w), int(h)
	s.chromaFormat, s.fields = chroma, !frameMbsOnly

	if s.vui = r.flag(); s.vui {
		s.frameRate = vuiFrameRate(r)
	}
	return s, nil
}

// skipScalingList reads past one scaling_list() (H.264 7.3.2.1.1.1): its
// delta_scale values stop early once nextScale becomes 0.
func skipScalingList(r *bitReader, size int) {
	last, next := int64(8), int64(8)
	for range size {
		if next != 0 {
			next = ((last+r.se())%256 + 256) % 256
		}
		if next != 0 {
			last = next
		}
		if r.overrun {
			return
		}
	}
}

// vuiFrameRate reads the VUI (H.264 E.1.1) up to its timing information
// and returns the frame rate, or 0 when there is none or it is malformed.
// The rate is time_scale / (2 × num_units_in_tick): a tick is a field.
func vuiFrameRate(r *bitReader) float64 {
	if r.flag() { // aspect_ratio_info_present_flag
		if r.u(8) == 255 { // aspect_ratio_idc Extended_SAR
			r.u(16) // sar_width
			r.u(16) // sar_height
		}
	}
	if r.flag() { // overscan_info_present_flag
		r.flag() // overscan_appropriate_flag
	}
	if r.flag() { // video_signal_type_present_flag
		r.u(3)        // video_format
		r.flag()      // video_full_range_flag
		if r.flag() { // colour_description_present_flag
			r.u(24) // colour_primaries, transfer_characteristics, matrix_coefficients
		}
	}
	if r.flag() { // chroma_loc_info_present_flag
		r.ue()
		r.ue()
	}
	if !r.flag() { // timing_info_present_flag
		return 0
	}
	tick, scale := r.u(32), r.u(32)
	if r.overrun || tick == 0 || scale == 0 {
		return 0
	}
	fps := float64(scale) / (2 * float64(tick))
	if fps < minFrameRate || fps > maxFrameRate {
		return 0
	}
	return fps
}
