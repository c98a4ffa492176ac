package cli

import (
	"fmt"
	"strings"

	"github.com/lmx-video/lmx/api"
)

// renditionRows are an adaptive-bitrate source's detail lines: each
// rendition as its multivariant playlist names it.
func renditionRows(s api.Source) [][2]string {
	var rows [][2]string
	for i, r := range s.Renditions {
		label := ""
		if i == 0 {
			label = "Renditions"
		}
		parts := []string{r.Name}
		if r.Resolution != "" {
			parts = append(parts, r.Resolution)
		}
		if r.Codecs != "" {
			parts = append(parts, r.Codecs)
		}
		rate := bitrate(r.BandwidthBPS) + " peak"
		if r.AverageBPS > 0 {
			rate += ", " + bitrate(r.AverageBPS) + " mean"
		}
		parts = append(parts, rate, fmt.Sprintf("%d live segments", r.LiveSegments))
		rows = append(rows, [2]string{label, strings.Join(parts, "  ")})
	}
	return rows
}
