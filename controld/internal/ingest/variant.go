package ingest

import (
	"strconv"

	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/hls"
)

// parseVariant reads the Lmx-Variant header: an EXT-X-STREAM-INF attribute
// list, checked as a multivariant playlist's is. Only what a multivariant
// playlist needs is kept and rendered again later, so nothing an edge
// sends reaches players as it is; other attributes are dropped.
func parseVariant(s string) (live.Variant, error) {
	if s == "" {
		return live.Variant{}, nil
	}
	v, err := hls.ParseStreamInf(s)
	if err != nil {
		return live.Variant{}, err
	}
	out := live.Variant{Bandwidth: int64(v.Bandwidth), AverageBandwidth: int64(v.AverageBandwidth), Codecs: v.Codecs, FrameRate: v.FrameRate}
	if v.Width > 0 && v.Height > 0 {
		out.Resolution = strconv.Itoa(v.Width) + "x" + strconv.Itoa(v.Height)
	}
	return out, nil
}
