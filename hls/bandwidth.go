package hls

import "math"

// BandwidthOf returns the bit rate, in bits per second rounded up, of a
// segment of size bytes lasting seconds: a segment's contribution to a
// variant's BANDWIDTH, which RFC 8216 4.3.4.2 defines as the peak over
// segments. It returns 0 when either is not positive (or not a number),
// so a caller never divides by a zero duration, and saturates at
// math.MaxInt.
func BandwidthOf(bytes int64, seconds float64) int {
	if bytes <= 0 || !(seconds > 0) || math.IsInf(seconds, 1) {
		return 0
	}
	bps := math.Ceil(float64(bytes) * 8 / seconds)
	if bps >= math.MaxInt {
		return math.MaxInt
	}
	return int(bps)
}
