package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// EdgeCmd groups the commands about edge agents. Edges register themselves
// by connecting, so there is nothing to add or remove here.
type EdgeCmd struct {
	Ls   EdgeLsCmd   `cmd:"" help:"List edge agents."`
	Show EdgeShowCmd `cmd:"" help:"Show one edge agent and the sources it sees."`
}

// sortEdges returns edges sorted by name, leaving the caller's slice alone.
func sortEdges(edges []api.Edge) []api.Edge {
	edges = slices.Clone(edges)
	slices.SortFunc(edges, func(a, b api.Edge) int { return strings.Compare(a.Name, b.Name) })
	return edges
}

// writeEdges prints edges as a table sorted by name.
func writeEdges(w io.Writer, edges []api.Edge, now time.Time) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tSTATUS\tVERSION\tADDRESS\tSOURCES\tLAST SEEN")
	for _, e := range sortEdges(edges) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n",
			e.Name, edgeState(e, now), orNone(e.Version), orNone(e.IngestAddr),
			len(e.Sources), age(e.LastSeen, now))
	}
	return tw.Flush()
}

// writeEdge prints one edge's details, then the sources it reports.
func writeEdge(w io.Writer, e api.Edge, now time.Time) error {
	tw := newTable(w)
	rows := [][2]string{
		{"Name", e.Name},
		{"Status", edgeState(e, now)},
		{"Version", orNone(e.Version)},
		{"Address", orNone(e.IngestAddr)},
		{"Started", timestamp(e.StartedAt, now)},
		{"First seen", timestamp(e.FirstSeen, now)},
		{"Last seen", timestamp(e.LastSeen, now)},
	}
	if len(e.Sources) == 0 {
		rows = append(rows, [2]string{"Sources", "none yet: push one with ffmpeg to " + cmp.Or(e.IngestAddr, "the edge's ingest address")})
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(e.Sources) == 0 {
		return nil
	}

	sources := slices.Clone(e.Sources)
	slices.SortFunc(sources, func(a, b api.EdgeSource) int { return strings.Compare(a.Name, b.Name) })
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "SOURCE\tSTREAMING\tLIVE\tBITRATE\tBUFFER\tUPLOADED\tDROPPED")
	for _, s := range sources {
		streaming := "off"
		if s.Streaming {
			streaming = "on"
		}
		buffer := fmt.Sprintf("%.0fs, %s", s.BufferedSeconds, byteSize(s.BufferedBytes))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n",
			s.Name, streaming, age(s.LastSegmentAt, now), bitrate(s.BitrateBPS), buffer, s.Uploaded, s.Dropped)
	}
	return tw.Flush()
}
