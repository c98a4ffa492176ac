package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// EdgeCmd groups the commands about edge agents. With authentication on,
// an edge joins with the single-use token lmx edge add prints, and can be
// cut off and let back in; otherwise edges register by connecting.
type EdgeCmd struct {
	apiFlags
	Add     EdgeAddCmd     `cmd:"" help:"Register an edge and print the command that starts it."`
	Ls      EdgeLsCmd      `cmd:"" help:"List edge agents."`
	Show    EdgeShowCmd    `cmd:"" help:"Show one edge agent and the sources it sees."`
	Revoke  EdgeRevokeCmd  `cmd:"" help:"Cut an edge off: close its session and refuse its uploads."`
	Restore EdgeRestoreCmd `cmd:"" help:"Let a revoked edge back in with its same credential."`
}

// addEdgeHint says how to get a first edge.
const addEdgeHint = "add one with lmx edge add NAME (or, with controld --auth none, start one with lmx edged --name NAME --controld HOST)"

// credentialState is an edge's credential as tables show it: pending,
// joined, revoked, or "-" (authentication off, or an edge never added).
func credentialState(e api.Edge) string {
	return orNone(e.Credential)
}

// edgeError explains an API error about the edge name: a 404 becomes
// advice to look at the list; anything else keeps its message.
func edgeError(name string, err error) error {
	if errors.Is(err, api.ErrNotFound) {
		return &hintError{msg: fmt.Sprintf("edge %q not found: see lmx edge ls", name), err: err}
	}
	return err
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
	fmt.Fprintln(tw, "NAME\tSTATUS\tCREDENTIAL\tVERSION\tADDRESS\tSOURCES\tLAST SEEN")
	for _, e := range sortEdges(edges) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
			e.Name, edgeState(e, now), credentialState(e), orNone(e.Version), orNone(e.IngestAddr),
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
		{"Credential", credentialDetail(e)},
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

// credentialDetail says what an edge's credential state means.
func credentialDetail(e api.Edge) string {
	switch e.Credential {
	case "":
		return none
	case api.CredentialPending:
		return "pending (added; its join token is not used yet)"
	case api.CredentialJoined:
		return "joined"
	case api.CredentialRevoked:
		return "revoked (lmx edge restore " + e.Name + " lets it back in)"
	default:
		return e.Credential
	}
}
