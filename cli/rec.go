package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// RecCmd groups the commands about recordings: stretches of a source's
// stream the control node keeps, which may reach back into the edge's
// buffer.
type RecCmd struct {
	apiFlags
	Start  RecStartCmd  `cmd:"" help:"Start recording a source, now or from the past."`
	Stop   RecStopCmd   `cmd:"" help:"Stop a recording."`
	Ls     RecLsCmd     `cmd:"" help:"List recordings."`
	Show   RecShowCmd   `cmd:"" help:"Show one recording in detail, with its gaps."`
	URL    RecURLCmd    `cmd:"" name:"url" help:"Print a signed playback URL of a recording."`
	Rm     RecRmCmd     `cmd:"" help:"Delete a recording."`
	Export RecExportCmd `cmd:"" help:"Write a recording to one .ts, .mp4, .mkv or .mov file."`
	Pin    RecPinCmd    `cmd:"" help:"Pin a recording: retention never deletes it."`
	Unpin  RecUnpinCmd  `cmd:"" help:"Unpin a recording: retention may delete it again."`
}

// localTime is how tables print a time: local, to the second, in a form
// --since reads back.
const localTime = "2006-01-02 15:04:05"

// recState is "recording" while a recording takes segments, else "stopped".
func recState(r api.Recording) string {
	if r.IsActive() {
		return "recording"
	}
	return "stopped"
}

// recSource is the recorded source's name, or its id from a server that
// does not send names.
func recSource(r api.Recording) string {
	return orNone(cmp.Or(r.SourceName, r.Source))
}

// mediaDuration formats seconds of media: "4.2s" below ten seconds (a
// segment or two), whole seconds above, "1m32s", "1h2m3s".
func mediaDuration(seconds float64) string {
	if !(seconds > 0) || math.IsInf(seconds, 0) {
		return "0s"
	}
	d := time.Duration(seconds * float64(time.Second))
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// gapSeconds formats a gap's length: "12 s", "4.5 s".
func gapSeconds(g api.Gap) string {
	s := g.Seconds
	if s <= 0 && !g.From.IsZero() && !g.To.IsZero() {
		s = g.To.Sub(g.From).Seconds()
	}
	return strconv.FormatFloat(math.Round(s*10)/10, 'f', -1, 64) + " s"
}

// gapRange is "2025-03-01 11:59:40 – 11:59:52 (12 s)": the end leaves out
// its date when it is the start's.
func gapRange(g api.Gap) string {
	from, to := g.From.Local(), g.To.Local()
	end := to.Format(localTime)
	if from.Format(time.DateOnly) == to.Format(time.DateOnly) {
		end = to.Format(time.TimeOnly)
	}
	return fmt.Sprintf("%s – %s (%s)", from.Format(localTime), end, gapSeconds(g))
}

// localStamp is t in local time, or "-" when unset.
func localStamp(t time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.Local().Format(localTime)
}

// sortRecordings returns recs newest first (by start, then id, which for
// lmx's UUIDv7 ids is creation order), leaving the caller's slice alone.
func sortRecordings(recs []api.Recording) []api.Recording {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b api.Recording) int {
		if c := b.StartTS.Compare(a.StartTS); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return recs
}

// writeRecordings prints recordings as a table, newest first. Ids are
// printed whole: lmx's are UUIDv7, whose first characters are a timestamp
// and so are shared by recordings started close together.
//
// A KEPT column appears when retention has something to say of any of
// them: continuous chunks, pins, and when a recording expires.
func writeRecordings(w io.Writer, recs []api.Recording) error {
	kept := slices.ContainsFunc(recs, func(r api.Recording) bool { return r.Pinned || r.Continuous || !r.ExpiresAt.IsZero() })
	tw := newTable(w)
	head := "ID\tSOURCE\tALIAS\tSTATE\tSTARTED\tDURATION\tSEGMENTS\tSIZE"
	if kept {
		head += "\tKEPT"
	}
	fmt.Fprintln(tw, head)
	for _, r := range sortRecordings(recs) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s",
			r.ID, recSource(r), orNone(r.Alias), recState(r), localStamp(r.StartTS),
			mediaDuration(r.DurationSeconds), r.Segments, byteSize(r.Bytes))
		if kept {
			fmt.Fprintf(tw, "\t%s", recKept(r))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// recKept says what retention does with a recording: "continuous, pinned",
// "until 2025-03-08 10:00:00", "-" (kept for good, or not known while it
// records).
func recKept(r api.Recording) string {
	var parts []string
	if r.Continuous {
		parts = append(parts, "continuous")
	}
	switch {
	case r.Pinned:
		parts = append(parts, "pinned")
	case !r.ExpiresAt.IsZero():
		parts = append(parts, "until "+localStamp(r.ExpiresAt))
	}
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, ", ")
}

// writeRecording prints one recording's details, one field a line, and
// one line per gap (named by rendition in a recording of several).
func writeRecording(w io.Writer, r api.Recording, now time.Time) error {
	source := recSource(r)
	if r.SourceName != "" && r.Source != "" {
		source = r.SourceName + " (" + r.Source + ")"
	}
	end := timestamp(r.EndTS, now)
	if r.IsActive() {
		end = "- (still recording)"
	}
	size := byteSize(r.Bytes)
	if r.Bytes >= 1024 {
		size += fmt.Sprintf(" (%d bytes)", r.Bytes)
	}
	play := none
	if r.PlaybackURL != "" {
		play = "ffplay " + r.PlaybackURL
	}
	rows := [][2]string{
		{"ID", r.ID},
		{"Source", source},
		{"Alias", orNone(r.Alias)},
		{"Description", orNone(r.Description)},
		{"State", recState(r)},
		{"Start", timestamp(r.StartTS, now)},
		{"End", end},
		{"First media", timestamp(r.FirstSegmentAt, now)},
		{"Last media", timestamp(r.LastSegmentEnd, now)},
		{"Duration", mediaDuration(r.DurationSeconds)},
		{"Segments", strconv.Itoa(r.Segments)},
		{"Size", size},
	}
	if len(r.Renditions) > 0 {
		rows = append(rows, [2]string{"Renditions", strings.Join(r.Renditions, ", ")})
	}
	if r.Pinned || r.Continuous || !r.ExpiresAt.IsZero() {
		rows = append(rows, [2]string{"Kept", recKept(r)})
	}
	if len(r.Gaps) == 0 {
		rows = append(rows, [2]string{"Gaps", "none"})
	}
	for i, g := range r.Gaps {
		label := ""
		if i == 0 {
			label = "Gaps"
		}
		gap := gapRange(g)
		if g.Rendition != "" {
			gap = "rendition " + g.Rendition + ": " + gap
		}
		rows = append(rows, [2]string{label, gap})
	}
	rows = append(rows,
		[2]string{"Playback", orNone(r.PlaybackURL)},
		[2]string{"Play with", play},
	)
	tw := newTable(w)
	for _, row := range rows {
		label := row[0]
		if label != "" {
			label += ":"
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, row[1])
	}
	return tw.Flush()
}

// recordingError explains an API error about the recording ref: a 404
// becomes advice to look at the list; anything else keeps its message.
func recordingError(ref string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, api.ErrNotFound) {
		return &hintError{msg: fmt.Sprintf("recording %q not found: see lmx rec ls", ref), err: err}
	}
	return err
}
