package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"
)

// clearScreen moves the cursor home and clears the terminal.
const clearScreen = "\x1b[H\x1b[2J"

// watch draws a view now and then every t.Redraw until ctx ends (Ctrl-C),
// which is how a watch is meant to end, so it returns nil then. On a terminal
// each frame replaces the last; anywhere else (a pipe, a file) frames follow
// each other, separated by a blank line, so nothing is garbled.
//
// A failed draw does not end the watch: the control node may be restarting,
// and the next frame will show it back.
func watch(ctx context.Context, out Stdout, t Timing, title string, draw func(io.Writer) error) error {
	for frame := 0; ; frame++ {
		// A frame is built whole, then written at once, so a slow server
		// never leaves half a table on screen.
		var buf bytes.Buffer
		if out.Terminal {
			buf.WriteString(clearScreen)
		} else if frame > 0 {
			buf.WriteString("\n")
		}
		fmt.Fprintf(&buf, "Every %s: %s  %s\n\n", t.Redraw, title, t.Now().Format("15:04:05"))
		if err := draw(&buf); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintf(&buf, "lmx: %v\n", err)
		}
		if _, err := out.Write(buf.Bytes()); err != nil {
			return err
		}
		timer := time.NewTimer(t.Redraw)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}
