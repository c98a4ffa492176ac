package ingest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lmx-video/lmx/controld/internal/live"
)

// parseVariant reads the Lmx-Variant header: an EXT-X-STREAM-INF attribute
// list as ffmpeg wrote it. Only what a multivariant playlist needs is kept,
// each value checked, so nothing an edge sends is passed to players as it
// is; unknown attributes are ignored.
func parseVariant(s string) (live.Variant, error) {
	var v live.Variant
	if s == "" {
		return v, nil
	}
	if len(s) > 512 {
		return v, fmt.Errorf("over 512 bytes")
	}
	attrs, err := splitAttributes(s)
	if err != nil {
		return v, err
	}
	for name, val := range attrs {
		switch name {
		case "BANDWIDTH", "AVERAGE-BANDWIDTH":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 || n > 1e12 {
				return v, fmt.Errorf("%s %q: want bits per second", name, val)
			}
			if name == "BANDWIDTH" {
				v.Bandwidth = n
			} else {
				v.AverageBandwidth = n
			}
		case "RESOLUTION":
			w, h, ok := strings.Cut(val, "x")
			wn, err1 := strconv.Atoi(w)
			hn, err2 := strconv.Atoi(h)
			if !ok || err1 != nil || err2 != nil || wn <= 0 || hn <= 0 || wn > 16384 || hn > 16384 {
				return v, fmt.Errorf("RESOLUTION %q: want WIDTHxHEIGHT", val)
			}
			v.Resolution = strconv.Itoa(wn) + "x" + strconv.Itoa(hn)
		case "CODECS":
			c, ok := strings.CutPrefix(val, `"`)
			c, ok2 := strings.CutSuffix(c, `"`)
			if !ok || !ok2 || c == "" || strings.ContainsFunc(c, func(r rune) bool {
				return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == ',' || r == '-' || r == '_' || r == ' ')
			}) {
				return v, fmt.Errorf("CODECS %q: want a quoted RFC 6381 list", val)
			}
			v.Codecs = c
		case "FRAME-RATE":
			f, err := strconv.ParseFloat(val, 64)
			if err != nil || f <= 0 || f > 1000 {
				return v, fmt.Errorf("FRAME-RATE %q: want frames per second", val)
			}
			v.FrameRate = f
		}
	}
	return v, nil
}

// splitAttributes splits an attribute list (RFC 8216 4.2): NAME=VALUE
// pairs separated by commas, a quoted-string value holding commas of its
// own.
func splitAttributes(s string) (map[string]string, error) {
	out := map[string]string{}
	for s != "" {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("attribute list %q: want NAME=VALUE", s)
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("attribute %s: unterminated quoted string", name)
			}
			val, rest = rest[:end+2], rest[end+2:]
		} else if i := strings.IndexByte(rest, ','); i >= 0 {
			val, rest = rest[:i], rest[i:]
		} else {
			val, rest = rest, ""
		}
		out[strings.TrimSpace(name)] = val
		if rest != "" {
			if rest[0] != ',' {
				return nil, fmt.Errorf("attribute %s: want a comma after its value", name)
			}
			rest = rest[1:]
		}
		s = rest
	}
	return out, nil
}
