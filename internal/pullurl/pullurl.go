// Package pullurl says which camera URLs an edge may hand to ffmpeg, and
// which ffmpeg protocols each may use. A pull URL is untrusted input (any
// operator token can set one), so it is checked where it is set and again
// on the edge, and ffmpeg is held to network protocols: never file:,
// concat:, subfile: or pipe:, which would let a URL read the edge's disk.
// Standard library only: the edge links it.
package pullurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/lmx-video/lmx/internal/redact"
)

// MaxLen bounds a pull URL.
const MaxLen = 2048

// ErrInvalid is wrapped by every error Validate returns.
var ErrInvalid = errors.New("pull URL")

// schemes maps each accepted URL scheme to the ffmpeg protocols reading it
// may need (-protocol_whitelist): HLS over HTTP opens further URLs itself,
// RTSP runs RTP over TCP or UDP, TLS variants need tls.
var schemes = map[string]string{
	"rtsp":  "rtsp,rtp,srtp,tcp,udp",
	"rtsps": "rtsp,rtsps,rtp,srtp,tcp,udp,tls",
	"rtmp":  "rtmp,tcp",
	"rtmps": "rtmp,rtmps,tcp,tls",
	"srt":   "srt,udp",
	"http":  "http,tcp,crypto,hls",
	"https": "http,https,tcp,tls,crypto,hls",
}

// Schemes lists the accepted schemes, for messages.
const Schemes = "rtsp, rtsps, rtmp, rtmps, srt, http, https"

// Validate checks raw as a pull URL: an absolute URL of an accepted scheme
// with a host, no control characters, at most MaxLen bytes. Errors quote
// the URL with its credentials masked.
func Validate(raw string) error {
	shown := redact.URL(raw)
	if len(raw) > MaxLen {
		return fmt.Errorf("%w is %d bytes, over %d", ErrInvalid, len(raw), MaxLen)
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w %q has a control character", ErrInvalid, shown)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w %q does not parse", ErrInvalid, shown)
	}
	scheme := strings.ToLower(u.Scheme)
	if _, ok := schemes[scheme]; !ok {
		if scheme == "" {
			return fmt.Errorf("%w %q has no scheme: want one of %s", ErrInvalid, shown, Schemes)
		}
		return fmt.Errorf("%w %q: scheme %q is not one of %s (files and other local inputs are never read)", ErrInvalid, shown, scheme, Schemes)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w %q has no host", ErrInvalid, shown)
	}
	return nil
}

// ProtocolWhitelist is ffmpeg's -protocol_whitelist for a valid raw URL.
func ProtocolWhitelist(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return schemes[strings.ToLower(u.Scheme)]
}
