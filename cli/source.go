package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/humanfmt"
)

// SourceCmd groups the commands about video sources: what ffmpeg pushes to
// an edge, and what viewers play from the control node.
type SourceCmd struct {
	apiFlags
	Add    SourceAddCmd    `cmd:"" help:"Create a source."`
	Ls     SourceLsCmd     `cmd:"" help:"List sources."`
	Show   SourceShowCmd   `cmd:"" help:"Show one source in detail."`
	Set    SourceSetCmd    `cmd:"" help:"Change a source: public or not, its edge, its description."`
	Rm     SourceRmCmd     `cmd:"" help:"Delete a source."`
	Stream SourceStreamCmd `cmd:"" help:"Turn a source's streaming on or off."`
	URL    SourceURLCmd    `cmd:"" name:"url" help:"Print a signed playback URL of a source's live stream."`
}

// writeSources prints sources as a table sorted by name.
func writeSources(w io.Writer, sources []api.Source, now time.Time) error {
	sources = slices.Clone(sources)
	slices.SortFunc(sources, func(a, b api.Source) int { return strings.Compare(a.Name, b.Name) })
	tw := newTable(w)
	// The PULL column shows only when a source is pulled, so a table of
	// pushed sources stays as narrow as it was.
	pulled := slices.ContainsFunc(sources, func(s api.Source) bool { return s.PullURL != "" })
	pullHead := ""
	if pulled {
		pullHead = "\tPULL"
	}
	fmt.Fprintln(tw, "NAME\tID\tEDGE\tSTREAMING"+pullHead+"\tPUBLIC\tLIVE\tBITRATE\tUPDATED")
	for _, s := range sources {
		pull := ""
		if pulled {
			pull = "\t" + humanfmt.PullState(s)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\t%s\t%s\t%s\t%s\n",
			s.Name, shortID(s.ID), edgeLabel(s), streamingState(s), pull, yesNo(s.Public),
			age(s.LastSegmentAt, now), bitrate(s.BitrateBPS), age(s.UpdatedAt, now))
	}
	return tw.Flush()
}

// writeSource prints one source's details, one field a line.
func writeSource(w io.Writer, s api.Source, now time.Time) error {
	tw := newTable(w)
	edge := edgeLabel(s)
	if name := sourceEdge(s); name != "" && s.EdgeOnline {
		edge = name + " (online)"
	}
	if a := activeFeed(s); a != "" {
		edge = fmt.Sprintf("%s (active feed of %d)", a, len(s.Feeds))
	}
	rows := [][2]string{
		{"Name", s.Name},
		{"ID", orNone(s.ID)},
		{"Description", orNone(s.Description)},
		{"Segment length", fmt.Sprintf("%ds", s.SegmentLength)},
		{"Edge", edge},
		{"Streaming", streamingState(s)},
		{"Last segment", age(s.LastSegmentAt, now)},
		{"Live segments", fmt.Sprint(s.LiveSegments)},
		{"Bitrate", bitrate(s.BitrateBPS)},
		{"Public", publicDetail(s)},
		{"Playback", orNone(s.PlaybackURL)},
		{"Created", timestamp(s.CreatedAt, now)},
		{"Updated", timestamp(s.UpdatedAt, now)},
	}
	if s.OnDemand {
		rows = slices.Insert(rows, 6, [2]string{"On demand", onDemandDetail(s)})
	}
	rows = append(rows, pullRows(s, now)...)
	rows = append(rows, feedRows(s, now)...)
	rows = append(rows, renditionRows(s)...)
	for _, r := range rows {
		if r[0] == "" {
			fmt.Fprintf(tw, "\t%s\n", r[1])
			continue
		}
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

// onDemandDetail says what an on-demand source uploads now.
func onDemandDetail(s api.Source) string {
	idle := fmt.Sprintf("%ds", s.IdleSeconds)
	if s.Awake {
		return "awake: uploading live until no player has asked for " + idle
	}
	return "asleep: the edge buffers and uploads live on the first playlist request, until none for " + idle
}

// yesNo is a flag as a table cell.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// publicDetail says who may play a source.
func publicDetail(s api.Source) string {
	if s.Public {
		return "yes (anyone may play it)"
	}
	return "no (with auth on, players need a signed URL: lmx source url " + s.Name + ")"
}

// pullRows are a pulled source's detail lines: the masked URL, what its
// edge says of its ffmpeg (state and since when, restarts, the last error
// line), the codecs the camera sends and the warnings the edge gave. A
// pushed source has none.
func pullRows(s api.Source, now time.Time) [][2]string {
	if s.PullURL == "" {
		return nil
	}
	rows := [][2]string{{"Pull URL", s.PullURL}}
	p := s.Pull
	if p == nil {
		return append(rows, [2]string{"Pull", "pending (the edge has not reported its ffmpeg yet)"})
	}
	state := humanfmt.PullState(s)
	if !p.Since.IsZero() {
		state += " since " + timestamp(p.Since, now)
	}
	rows = append(rows,
		[2]string{"Pull", state},
		[2]string{"Restarts", fmt.Sprint(p.Restarts)},
		[2]string{"Last error", orNone(p.LastError)},
		[2]string{"Codecs", humanfmt.PullCodecs(p)},
	)
	if len(p.Warnings) > 0 {
		rows = append(rows, [2]string{"Warnings", strings.Join(p.Warnings, "; ")})
	}
	return rows
}
