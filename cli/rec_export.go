package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/hls"
)

// RecExportCmd writes a recording to one file.
type RecExportCmd struct {
	ID     string `arg:"" help:"Recording id."`
	Output string `short:"o" required:"" placeholder:"FILE" help:"File to write: MPEG-TS as recorded, or .mp4, .mkv, .mov remuxed by ffmpeg."`
	Force  bool   `help:"Overwrite FILE if it exists."`
	// Rendition picks one rendition of a recording of several.
	Rendition string `placeholder:"NAME" help:"Rendition to export, of a recording of several (adaptive bitrate); the highest bandwidth when not given."`
}

// Help is the detail under the usage line.
func (*RecExportCmd) Help() string {
	return `Downloads a recording's segments, in order, through its playback URL and
writes them as one file, with no transcoding. A FILE ending in .mp4, .mkv or
.mov is remuxed by ffmpeg (-c copy), which must be on PATH; any other name
gets the MPEG-TS as recorded. An fMP4 recording is first remuxed to
MPEG-TS by ffmpeg (each run with its init segment), so it needs ffmpeg
whatever the name. An active recording exports what it holds so far.

A recording of an adaptive-bitrate source holds several renditions (lmx
rec show lists them): one is exported, the one --rendition names, else the
one of the highest bandwidth, which is said on stderr.

The file appears only once complete (it is written as FILE.part, then
renamed), and an existing FILE is kept unless --force is given.

Examples:

    lmx rec export 0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e -o clip.ts
    lmx rec export "$id" -o clip.mp4 --force
    lmx rec export "$id" --rendition 0 -o low.ts`
}

// remuxFormats maps the extensions ffmpeg remuxes to to its -f names: the
// output is FILE.part, whose extension says nothing to ffmpeg.
var remuxFormats = map[string]string{
	".mp4": "mp4",
	".mkv": "matroska",
	".mov": "mov",
}

// errNoFFmpeg is the error for a remux without ffmpeg.
var errNoFFmpeg = errors.New("ffmpeg not found on PATH: install it (Debian: apt-get install ffmpeg) or export to .ts")

// maxExportPlaylist bounds a recording's playlist: about 100 bytes a
// segment, so some 600,000 segments, weeks of 4-second segments.
const maxExportPlaylist = 64 << 20

// Run exports the recording.
func (c *RecExportCmd) Run(ctx context.Context, client Client, out Stdout, log *slog.Logger, kctx *kong.Context) error {
	// Everything that can be refused before downloading is, so a mistake
	// costs no time and leaves no file behind.
	format := remuxFormats[strings.ToLower(filepath.Ext(c.Output))]
	var ffmpeg string
	if format != "" {
		var err error
		if ffmpeg, err = exec.LookPath("ffmpeg"); err != nil {
			return errNoFFmpeg
		}
	}
	if err := checkOutput(c.Output, c.Force); err != nil {
		return err
	}
	rec, err := client.GetRecording(ctx, c.ID)
	if err != nil {
		return recordingError(c.ID, err)
	}
	if rec.PlaybackURL == "" {
		return fmt.Errorf("recording %s has no playback URL: the control node does not know its public address (lmx controld --public-url)", c.ID)
	}

	f := httpFetcher{client: exportHTTPClient()}
	pl, base, note, err := fetchRecordingPlaylist(ctx, f, c.ID, rec.PlaybackURL, c.Rendition, rec.Renditions)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(kctx.Stderr, note)
	}
	if len(pl.Segments) == 0 {
		return fmt.Errorf("recording %s holds no segments yet: nothing to export", c.ID)
	}
	log.Debug("exporting recording", "id", c.ID, "playlist", rec.PlaybackURL, "segments", len(pl.Segments), "output", c.Output)
	if isFMP4(pl) && ffmpeg == "" {
		// fMP4 segments become MPEG-TS by remux too.
		if ffmpeg, err = exec.LookPath("ffmpeg"); err != nil {
			return fmt.Errorf("recording %s is fMP4: %w", c.ID, errNoFFmpeg)
		}
	}
	x := exporter{f: f, base: base, pl: pl, ffmpeg: ffmpeg, log: log}

	var res exportResult
	if format == "" {
		err = replaceFile(c.Output, func(part string) error {
			var werr error
			res, werr = x.writeTS(ctx, part)
			return werr
		})
	} else {
		res, err = c.remux(ctx, x, format)
	}
	if err != nil {
		return err
	}
	return c.report(out, rec, pl, res, format != "")
}

// remux downloads the segments to a temporary .ts next to the output, then
// has ffmpeg copy its streams into the output's container.
func (c *RecExportCmd) remux(ctx context.Context, x exporter, format string) (exportResult, error) {
	ffmpeg, log := x.ffmpeg, x.log
	// Next to the output rather than in $TMPDIR: the same file system, so
	// there is room for it if there is room for the result (/tmp is often
	// a small tmpfs).
	tmp, err := os.CreateTemp(filepath.Dir(c.Output), "."+filepath.Base(c.Output)+".*.ts")
	if err != nil {
		return exportResult{}, err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)

	res, err := x.writeTS(ctx, tmpName)
	if err != nil {
		return res, err
	}
	err = replaceFile(c.Output, func(part string) error {
		return runRemux(ctx, ffmpeg, tmpName, format, part, c.Output, log)
	})
	if err != nil {
		return res, err
	}
	if fi, err := os.Stat(c.Output); err == nil {
		res.fileBytes = fi.Size()
	}
	return res, nil
}

// runRemux has ffmpeg copy the streams of in into out, in container
// format; name is the file the user asked for, for the error.
// extra are output options put before out.
func runRemux(ctx context.Context, ffmpeg, in, format, out, name string, log *slog.Logger, extra ...string) error {
	args := append([]string{"-v", "error", "-y", "-i", in, "-c", "copy", "-f", format}, extra...)
	cmd := exec.CommandContext(ctx, ffmpeg, append(args, out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	log.Debug("remuxing", "cmd", cmd.String())
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "…" + msg[len(msg)-2000:]
		}
		if msg != "" {
			msg = ":\n" + msg
		}
		return fmt.Errorf("ffmpeg could not remux the recording to %s (%v)%s", name, err, msg)
	}
	return nil
}

// report prints what was written, and what the file lacks.
func (c *RecExportCmd) report(out Stdout, rec api.Recording, pl *hls.MediaPlaylist, res exportResult, remuxed bool) error {
	how := ""
	switch {
	case res.fmp4:
		how = fmt.Sprintf(" (remuxed by ffmpeg from %s of fMP4 in %d runs)", byteSize(res.bytes), res.runs)
	case remuxed:
		how = fmt.Sprintf(" (remuxed by ffmpeg from %s of MPEG-TS)", byteSize(res.bytes))
	}
	fmt.Fprintf(out, "wrote %s: %s (%d bytes), %s in %d segments%s\n",
		c.Output, byteSize(res.fileBytes), res.fileBytes, mediaDuration(res.seconds), res.segments, how)
	switch {
	case res.discontinuities > 0 && res.fmp4:
		// The runs were remuxed one after the other, timestamps made to follow on.
		fmt.Fprintf(out, "note: %d discontinuities (gaps or encoder restarts): the media jumps there; see lmx rec show %s\n",
			res.discontinuities, c.ID)
	case res.discontinuities > 0:
		fmt.Fprintf(out, "note: %d discontinuities (gaps or encoder restarts): timestamps jump there; see lmx rec show %s\n",
			res.discontinuities, c.ID)
	}
	if rec.IsActive() || !pl.EndList {
		fmt.Fprintf(out, "note: recording %s is still recording: this is what it held so far; export again after lmx rec stop %s for all of it\n",
			c.ID, c.ID)
	}
	return nil
}

// checkOutput refuses to write over an existing file unless force, and
// over a directory at all.
func checkOutput(path string, force bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory: give a file name, such as %s", path, filepath.Join(path, "clip.ts"))
	case !force:
		return fmt.Errorf("%s exists: pass --force to overwrite it", path)
	}
	return nil
}

// replaceFile has fill write path+".part" and renames it to path once fill
// succeeds, so path never holds half a file. On failure the .part is
// removed.
func replaceFile(path string, fill func(part string) error) error {
	part := path + ".part"
	if err := fill(part); err != nil {
		os.Remove(part)
		return err
	}
	if err := os.Rename(part, path); err != nil {
		os.Remove(part)
		return err
	}
	return nil
}

// exportResult is what writing a recording's segments produced.
type exportResult struct {
	// segments is how many segments were written.
	segments int
	// bytes is how many bytes of MPEG-TS they made.
	bytes int64
	// fileBytes is the size of the file written: bytes, or the remuxed
	// file's size.
	fileBytes int64
	// seconds is the sum of the segments' durations.
	seconds float64
	// discontinuities counts the segments after the first marked
	// EXT-X-DISCONTINUITY.
	discontinuities int
	// fmp4 says the segments were fMP4, runs how many init segments
	// they followed.
	fmp4 bool
	runs int
}

// fetcher gets the body of a URL. Export takes one so tests can serve or
// fail requests without a control node.
type fetcher interface {
	// fetch returns the body of url on a 200 answer, for the caller to
	// close, and an error otherwise.
	fetch(ctx context.Context, url string) (io.ReadCloser, error)
}

// httpFetcher is the fetcher export uses: plain GETs.
type httpFetcher struct {
	client *http.Client
}

// exportHTTPClient has no overall timeout, since a long recording takes
// long, but gives up on a server that does not start answering.
func exportHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: t}
}

// statusError is a non-200 answer to a fetch.
type statusError struct {
	url, status, body string
}

func (e *statusError) Error() string {
	msg := "GET " + e.url + ": " + e.status
	if e.body != "" {
		msg += ": " + e.body
	}
	return msg
}

func (h httpFetcher) fetch(ctx context.Context, u string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		// The start of the body usually says why (a JSON error message).
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		body := strings.Join(strings.Fields(string(b)), " ")
		return nil, &statusError{url: u, status: resp.Status, body: body}
	}
	return resp.Body, nil
}

// fetchPlaylist gets and parses the media playlist at playlistURL, and
// returns the URL its segment URIs are relative to.
func fetchPlaylist(ctx context.Context, f fetcher, playlistURL string) (*hls.MediaPlaylist, *url.URL, error) {
	return fetchPlaylistOr(ctx, f, playlistURL, nil)
}

// fetchPlaylistOr is fetchPlaylist, but a multivariant playlist goes to
// multivariant (when not nil), and no media playlist is returned for it.
func fetchPlaylistOr(ctx context.Context, f fetcher, playlistURL string, multivariant func(io.Reader) error) (*hls.MediaPlaylist, *url.URL, error) {
	base, err := url.Parse(playlistURL)
	if err != nil {
		return nil, nil, fmt.Errorf("playback URL %q: %w", playlistURL, err)
	}
	body, err := f.fetch(ctx, playlistURL)
	if err != nil {
		var se *statusError
		if !errors.As(err, &se) && ctx.Err() == nil {
			return nil, nil, fmt.Errorf("fetching the recording's playlist: %w (the playback address is the control node's --public-url: is it reachable from here?)", err)
		}
		return nil, nil, fmt.Errorf("fetching the recording's playlist: %w", err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxExportPlaylist+1))
	if err != nil {
		return nil, nil, fmt.Errorf("fetching the recording's playlist %s: %w", playlistURL, err)
	}
	if multivariant != nil && hls.IsMultivariant(b) {
		if err := multivariant(bytes.NewReader(b)); err != nil {
			return nil, nil, fmt.Errorf("reading the recording's playlist %s: %w", playlistURL, err)
		}
		return nil, base, nil
	}
	pl, err := hls.ParseMediaPlaylist(bytes.NewReader(b), maxExportPlaylist)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the recording's playlist %s: %w", playlistURL, err)
	}
	return pl, base, nil
}

// writeSegmentsTo creates path and writes the playlist's segments into it
// (see writeSegments). It syncs the file before closing it, so a rename
// that follows never publishes a file whose bytes are not on disk.
func writeSegmentsTo(ctx context.Context, f fetcher, base *url.URL, pl *hls.MediaPlaylist, path string, log *slog.Logger) (exportResult, error) {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return exportResult{}, err
	}
	res, err := writeSegments(ctx, f, base, pl, file, log)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	res.fileBytes = res.bytes
	return res, nil
}

// writeSegments fetches the playlist's segments, resolved against base,
// one after the other and writes their bytes to w in playlist order.
func writeSegments(ctx context.Context, f fetcher, base *url.URL, pl *hls.MediaPlaylist, w io.Writer, log *slog.Logger) (exportResult, error) {
	var res exportResult
	n := len(pl.Segments)
	for i, s := range pl.Segments {
		ref, err := url.Parse(s.URI)
		if err != nil {
			return res, fmt.Errorf("segment %d of %d: bad URI %q: %w", i+1, n, s.URI, err)
		}
		u := base.ResolveReference(ref).String()
		body, err := f.fetch(ctx, u)
		if err != nil {
			return res, fmt.Errorf("segment %d of %d: %w", i+1, n, err)
		}
		written, err := io.Copy(w, body)
		body.Close()
		res.bytes += written
		if err != nil {
			return res, fmt.Errorf("segment %d of %d (%s): %w", i+1, n, u, err)
		}
		res.segments++
		res.seconds += s.Duration
		if s.Discontinuity && i > 0 {
			res.discontinuities++
		}
		log.Debug("segment exported", "n", i+1, "of", n, "bytes", written, "uri", u)
	}
	return res, nil
}
