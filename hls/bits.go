package hls

// bitReader reads big-endian bit fields and Exp-Golomb codes (H.264 9.1)
// from an RBSP. Reading past the end sets a sticky overrun flag and yields
// zeros, so a parser can read a run of fields and check once; loops whose
// count comes from the data must check it each round to stay bounded.
type bitReader struct {
	b       []byte
	pos     int // next bit, counted from the first byte's top bit
	overrun bool
}

// u reads an n-bit unsigned field, 0 <= n <= 32.
func (r *bitReader) u(n int) uint32 {
	var v uint32
	for ; n > 0; n-- {
		v = v<<1 | uint32(r.bit())
	}
	return v
}

// flag reads one bit as a bool.
func (r *bitReader) flag() bool { return r.bit() == 1 }

func (r *bitReader) bit() byte {
	if r.pos >= 8*len(r.b) {
		r.overrun = true
		return 0
	}
	c := r.b[r.pos/8] >> (7 - r.pos%8) & 1
	r.pos++
	return c
}

// ue reads an unsigned Exp-Golomb code, ue(v). A code with more than 31
// leading zeros does not fit the 32-bit range H.264 allows and is read as
// an overrun.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.bit() == 0 {
		if r.overrun || zeros == 31 {
			r.overrun = true
			return 0
		}
		zeros++
	}
	return uint32(uint64(1)<<zeros - 1 + uint64(r.u(zeros)))
}

// se reads a signed Exp-Golomb code, se(v).
func (r *bitReader) se() int64 {
	k := int64(r.ue())
	if k%2 == 1 {
		return (k + 1) / 2
	}
	return -k / 2
}

// unescapeRBSP removes the emulation prevention bytes (H.264 7.4.1: the
// 0x03 of every 0x00 0x00 0x03) from a NAL unit's payload.
func unescapeRBSP(nal []byte) []byte {
	out := make([]byte, 0, len(nal))
	zeros := 0
	for _, c := range nal {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}
