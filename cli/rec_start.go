package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/api"
)

// RecStartCmd starts a recording.
type RecStartCmd struct {
	Source      string    `arg:"" help:"Source id or name."`
	Since       sinceFlag `placeholder:"WHEN" xor:"since" help:"Start in the past: -30s, -2m (or 30s, 2m), an RFC 3339 time, epoch seconds, or now (the default)."`
	SinceEpoch  int64     `name:"since-epoch" placeholder:"N" xor:"since" help:"Start at Unix time N in seconds, LiveMix's start_time_epoch (0: now)."`
	Alias       string    `placeholder:"NAME" help:"Short name for the recording."`
	Description string    `placeholder:"TEXT" help:"Free text about the recording."`
	JSON        bool      `name:"json" help:"Print the recording as a JSON object."`
}

// Help is the detail under the usage line.
func (*RecStartCmd) Help() string {
	return `Starts recording a source and prints the recording's id alone on stdout, so
a script can keep it; where it starts and the playback URL go to stderr.

With --since the recording starts in the past, pulling in the segments the
edge still buffers (the last 120s by default, edged --buffer). Durations count
back from this machine's clock; a time without a zone (as lmx rec ls prints
them) is local time.

Examples:

    lmx rec start camera-0
    lmx rec start camera-0 --since -30s --alias "door opened"
    lmx rec start camera-0 --since 2026-11-23T10:00:00Z --description "Delivery"
    lmx rec start camera-0 --since-epoch 1795428000 --json
    id=$(lmx rec start camera-0 --since -2m) && sleep 60 && lmx rec stop "$id"`
}

// Run starts the recording.
func (c *RecStartCmd) Run(ctx context.Context, client Client, out Stdout, t Timing, kctx *kong.Context) error {
	epoch, err := c.startEpoch(t)
	if err != nil {
		return err
	}
	rec, err := client.StartRecording(ctx, c.Source, api.NewRecording{
		Alias:          c.Alias,
		Description:    c.Description,
		StartTimeEpoch: epoch,
	})
	if err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return sourceError(c.Source, err)
		}
		return fmt.Errorf("starting a recording of %q: %w", c.Source, err)
	}
	if c.JSON {
		return printJSON(out, rec)
	}
	if _, err := fmt.Fprintln(out, rec.ID); err != nil {
		return err
	}
	// The rest is for people, on stderr, so $(lmx rec start …) is the id.
	stderr := kctx.Stderr
	fmt.Fprintf(stderr, "recording %s from %s\n", recSourceOr(rec, c.Source), timestamp(rec.StartTS, t.Now()))
	if rec.PlaybackURL != "" {
		fmt.Fprintf(stderr, "playback: %s\n", rec.PlaybackURL)
	}
	fmt.Fprintf(stderr, "stop it with: lmx rec stop %s\n", rec.ID)
	return nil
}

// startEpoch is start_time_epoch for the flags: 0 (the server's now) unless
// --since or --since-epoch name a moment in the past.
func (c *RecStartCmd) startEpoch(t Timing) (int64, error) {
	if c.SinceEpoch < 0 {
		return 0, fmt.Errorf("--since-epoch %d: epoch seconds can't be negative", c.SinceEpoch)
	}
	if c.SinceEpoch > 0 {
		// The same checks as --since (not in the future, not a duration
		// missing its unit).
		at, err := parseSince(fmt.Sprint(c.SinceEpoch), t.Now())
		if err != nil {
			return 0, fmt.Errorf("--since-epoch: %w", err)
		}
		return at.Unix(), nil
	}
	at, err := parseSince(string(c.Since), t.Now())
	if err != nil {
		return 0, fmt.Errorf("--since: %w", err)
	}
	if at.IsZero() {
		return 0, nil
	}
	return at.Unix(), nil
}

// recSourceOr is the recording's source name, or ref (what the operator
// typed) when the server sent neither name nor id.
func recSourceOr(r api.Recording, ref string) string {
	if s := recSource(r); s != none {
		return s
	}
	return ref
}
