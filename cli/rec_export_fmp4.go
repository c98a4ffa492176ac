package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lmx-video/lmx/hls"
)

// exporter downloads one recording's segments.
type exporter struct {
	f      fetcher
	base   *url.URL
	pl     *hls.MediaPlaylist
	ffmpeg string // "" unless a remux is needed
	log    *slog.Logger
}

// isFMP4 reports whether pl's segments are fMP4 (follow an EXT-X-MAP).
func isFMP4(pl *hls.MediaPlaylist) bool {
	for _, s := range pl.Segments {
		if s.Map != "" {
			return true
		}
	}
	return false
}

// writeTS writes the recording to path as MPEG-TS: the segments as
// recorded, or, for fMP4, each run of segments that follow one init
// segment (init segment, then its segments: a fragmented MP4) remuxed by
// ffmpeg to MPEG-TS, one run after the other. MPEG-TS carries the codec
// parameters in the stream, so runs of other resolutions or codec
// settings (an ffmpeg restarted with other parameters) follow one
// another in one file, as an MPEG-TS recording's do.
func (x exporter) writeTS(ctx context.Context, path string) (exportResult, error) {
	if !isFMP4(x.pl) {
		return writeSegmentsTo(ctx, x.f, x.base, x.pl, path, x.log)
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return exportResult{}, err
	}
	res, err := x.writeFMP4Runs(ctx, path, out)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	if fi, err := os.Stat(path); err == nil {
		res.fileBytes = fi.Size()
	}
	return res, nil
}

// writeFMP4Runs appends each run of x.pl, remuxed to MPEG-TS, to out
// (the file at path, next to which the runs are staged).
func (x exporter) writeFMP4Runs(ctx context.Context, path string, out io.Writer) (exportResult, error) {
	res := exportResult{fmp4: true}
	segs := x.pl.Segments
	// Each run's timestamps start again where the runs before it end (by
	// their EXTINF), so the file plays through as one timeline, not as
	// runs whose timestamps restart (each ffmpeg run counts from 0).
	var offset float64
	for start := 0; start < len(segs); {
		end := start + 1
		for end < len(segs) && segs[end].Map == segs[start].Map {
			end++
		}
		if segs[start].Map == "" {
			return res, fmt.Errorf("segment %d of %d has no init segment (EXT-X-MAP) but others do: the playlist mixes MPEG-TS and fMP4", start+1, len(segs))
		}
		run := *x.pl
		run.Segments = segs[start:end]
		r, err := x.writeRun(ctx, path, &run, start, len(segs), offset, out)
		offset += r.seconds
		res.segments += r.segments
		res.bytes += r.bytes
		res.seconds += r.seconds
		res.discontinuities += r.discontinuities
		if start > 0 && len(run.Segments) > 0 && run.Segments[0].Discontinuity && r.segments > 0 {
			res.discontinuities++ // writeSegments counts only after a run's first
		}
		res.runs++
		if err != nil {
			return res, err
		}
		start = end
	}
	return res, nil
}

// writeRun stages one run (its init segment, then its segments) as a
// fragmented MP4 next to path, remuxes it to MPEG-TS and appends that to
// out, its timestamps moved to start at offset seconds. first is the run's
// first segment's index, n all segments', for messages.
func (x exporter) writeRun(ctx context.Context, path string, run *hls.MediaPlaylist, first, n int, offset float64, out io.Writer) (exportResult, error) {
	dir, name := filepath.Dir(path), filepath.Base(path)
	frag, err := os.CreateTemp(dir, "."+name+".*.mp4")
	if err != nil {
		return exportResult{}, err
	}
	fragName := frag.Name()
	defer os.Remove(fragName)
	ref, err := url.Parse(run.Segments[0].Map)
	if err != nil {
		frag.Close()
		return exportResult{}, fmt.Errorf("segment %d of %d: bad init segment URI %q: %w", first+1, n, run.Segments[0].Map, err)
	}
	u := x.base.ResolveReference(ref).String()
	body, err := x.f.fetch(ctx, u)
	if err != nil {
		frag.Close()
		return exportResult{}, fmt.Errorf("init segment of segment %d of %d: %w", first+1, n, err)
	}
	initBytes, err := io.Copy(frag, body)
	body.Close()
	if err != nil {
		frag.Close()
		return exportResult{}, fmt.Errorf("init segment %s: %w", u, err)
	}
	res, err := writeSegments(ctx, x.f, x.base, run, frag, x.log)
	res.bytes += initBytes
	if cerr := frag.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	ts, err := os.CreateTemp(dir, "."+name+".*.ts")
	if err != nil {
		return res, err
	}
	tsName := ts.Name()
	ts.Close()
	defer os.Remove(tsName)
	if err := runRemux(ctx, x.ffmpeg, fragName, "mpegts", tsName, path, x.log, "-output_ts_offset", strconv.FormatFloat(offset, 'f', 6, 64)); err != nil {
		return res, err
	}
	in, err := os.Open(tsName)
	if err != nil {
		return res, err
	}
	defer in.Close()
	_, err = io.Copy(out, in)
	return res, err
}
