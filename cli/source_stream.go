package cli

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/netaddr"
)

// SourceStreamCmd groups stream on and stream off.
type SourceStreamCmd struct {
	On  SourceStreamOnCmd  `cmd:"" help:"Turn streaming on and wait until the edge confirms."`
	Off SourceStreamOffCmd `cmd:"" help:"Turn streaming off and wait until the edge confirms."`
}

// streamArgs are what stream on and stream off share.
type streamArgs struct {
	Source  string        `arg:"" help:"Source id or name."`
	Timeout time.Duration `default:"15s" help:"How long to wait for the edge to confirm."`
	JSON    bool          `name:"json" help:"Print the source as JSON once confirmed."`
}

// SourceStreamOnCmd turns a source's streaming on.
type SourceStreamOnCmd struct {
	streamArgs
}

// Help is the detail under the usage line.
func (*SourceStreamOnCmd) Help() string {
	return `Asks the edge that receives the source to forward its segments to the
control node, then waits until the edge confirms it does, and prints the
playback URL. Streaming stays on if the wait times out: the edge catches up
when it connects.

Examples:

    lmx source stream on camera-0
    lmx source stream on camera-0 --timeout 1m
    ffplay "$(lmx source stream on camera-0 --json | jq -r .playback_url)"`
}

// Run turns streaming on.
func (c *SourceStreamOnCmd) Run(ctx context.Context, client Client, out Stdout, log *slog.Logger, t Timing) error {
	return c.set(ctx, client, out, log, t, true)
}

// SourceStreamOffCmd turns a source's streaming off.
type SourceStreamOffCmd struct {
	streamArgs
}

// Help is the detail under the usage line.
func (*SourceStreamOffCmd) Help() string {
	return `Asks the edge to stop forwarding the source's segments, then waits until
the edge confirms. The edge keeps receiving them from ffmpeg, so recordings
can still reach back into its buffer.

Examples:

    lmx source stream off camera-0
    lmx source stream off camera-0 --timeout 5s`
}

// Run turns streaming off.
func (c *SourceStreamOffCmd) Run(ctx context.Context, client Client, out Stdout, log *slog.Logger, t Timing) error {
	return c.set(ctx, client, out, log, t, false)
}

// set asks for the new state, then waits for the edge to report it: the
// control node answering only means it wrote the desired state; the stream
// flows once the edge acts on it.
func (c *streamArgs) set(ctx context.Context, client Client, out Stdout, log *slog.Logger, t Timing, on bool) error {
	src, err := client.SetStreaming(ctx, c.Source, on)
	if err != nil {
		return sourceError(c.Source, err)
	}
	src, err = c.wait(ctx, client, log, t, src, on)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(out, src)
	}
	state := "not streaming"
	if on {
		state = "streaming"
		if src.OnDemand {
			state = "streaming on demand"
		}
	}
	if edge := sourceEdge(src); edge != "" {
		state += " (edge " + edge + ")"
	}
	fmt.Fprintf(out, "%s: %s\n", src.Name, state)
	if on && src.PlaybackURL != "" {
		fmt.Fprintf(out, "playback: %s\n", src.PlaybackURL)
	}
	return nil
}

// wait polls the source every t.Poll until its edge reports the wanted state,
// or fails after c.Timeout saying which edge did not answer.
func (c *streamArgs) wait(ctx context.Context, client Client, log *slog.Logger, t Timing, src api.Source, on bool) (api.Source, error) {
	// Poll by id once known: a name could be reused if the source is
	// deleted and re-created meanwhile.
	ref := cmp.Or(src.ID, c.Source)
	deadline := time.NewTimer(c.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(t.Poll)
	defer tick.Stop()
	for src.EdgeStreaming != edgeWants(src, on) {
		log.Debug("waiting for edge to confirm", "source", src.Name, "edge", sourceEdge(src), "want_streaming", on)
		select {
		case <-ctx.Done():
			return src, ctx.Err()
		case <-deadline.C:
			return src, notConfirmed(src, c.Source, on, c.Timeout)
		case <-tick.C:
		}
		next, err := client.GetSource(ctx, ref)
		if err != nil {
			return src, sourceError(c.Source, err)
		}
		src = next
	}
	return src, nil
}

// edgeWants is whether the edge should report src as streaming once it has
// taken streaming on or off: an on-demand source uploads only while awake.
func edgeWants(src api.Source, on bool) bool {
	return on && (!src.OnDemand || src.Awake)
}

// notConfirmed explains a wait that timed out: which edge did not answer,
// or that no edge has the source at all, and what to do about it.
func notConfirmed(src api.Source, ref string, on bool, timeout time.Duration) error {
	what := "streaming"
	if !on {
		what = "streaming off"
	}
	edge := sourceEdge(src)
	if edge == "" {
		name := cmp.Or(src.Name, ref)
		return fmt.Errorf("no edge has pushed source %q yet, so none can confirm %s (the setting is kept and applies once one does)\n"+
			"push it to an edge with ffmpeg: ffmpeg ... -f hls -headers $'Video-Source-Name: %s\\r\\nMPEG-TS-URI-Prefix: file:///path/to/segments\\r\\n' -method POST http://EDGE:%d/v1/playlist",
			name, what, name, netaddr.EdgeIngestPort)
	}
	return fmt.Errorf("edge %q did not confirm %s within %s: is it online? see lmx edge ls", edge, what, timeout)
}
