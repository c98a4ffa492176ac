package hls

import (
	"math"
	"strconv"
)

// MaxSegmentDuration is the longest EXTINF duration, in seconds, that
// ParseMediaPlaylist accepts. Real segments last seconds; an hour-long one
// means a broken or hostile writer, and the bound keeps target-duration
// arithmetic far from overflow.
const MaxSegmentDuration = 3600

// servedDuration returns d as a player reads it from our playlists, that is
// after formatting with three decimals. Target durations are computed from
// this value so that, say, 2.0000001 s (written "2.000") does not push the
// target to 3.
func servedDuration(d float64) float64 {
	d = sane(d)
	v, err := strconv.ParseFloat(strconv.FormatFloat(d, 'f', servedFormat.durPrec, 64), 64)
	if err != nil {
		return d
	}
	return v
}

// sane maps durations that cannot be rendered meaningfully (NaN, ±Inf,
// negative) to 0, so that a bad value from a caller cannot make a playlist
// unparseable. ParseMediaPlaylist never yields such values.
func sane(d float64) float64 {
	if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		return 0
	}
	return d
}

// roundedSeconds is d rounded to the nearest integer, halves up: the value
// RFC 8216 4.3.3.1 compares with EXT-X-TARGETDURATION. Halves go up because
// the RFC does not say, and up is the stricter reading.
func roundedSeconds(d float64) int {
	return clampInt(math.Round(sane(d)))
}

// ceilSeconds is d rounded up, at least 1: a target duration of 0 would make
// players reload the playlist in a tight loop.
func ceilSeconds(d float64) int {
	return max(clampInt(math.Ceil(sane(d))), 1)
}

// clampInt converts a non-negative float to int without the undefined
// behaviour of converting an out-of-range float.
func clampInt(f float64) int {
	if f >= math.MaxInt32 {
		return math.MaxInt32
	}
	return int(f)
}

// millis is d in whole milliseconds, the resolution of served EXTINF
// values. Window coverage is summed in integer milliseconds so that the
// window and CheckLive, which sum different float representations in
// different orders, agree exactly at the three-target-duration boundary.
func millis(d float64) int64 {
	d = sane(d)
	if d >= math.MaxInt64/2000 {
		return math.MaxInt64 / 2000
	}
	return int64(math.Round(d * 1000))
}
