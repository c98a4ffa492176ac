package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/lmx-video/lmx/hls"
)

// recordingVariant is one rendition a recording's multivariant playlist
// lists, with its name.
type recordingVariant struct {
	hls.RecordingVariant
	name string
}

// renditionOfURI is the rendition a variant URI names: the first element
// of {rendition}/vid.m3u8.
func renditionOfURI(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	name, _, _ := strings.Cut(uri, "/")
	return name
}

// readVariants reads a multivariant playlist's variants.
func readVariants(body io.Reader) ([]recordingVariant, error) {
	vs, err := hls.ParseRecordingMultivariant(body, maxExportPlaylist)
	if err != nil {
		return nil, err
	}
	out := make([]recordingVariant, len(vs))
	for i, v := range vs {
		out[i] = recordingVariant{RecordingVariant: v, name: renditionOfURI(v.URI)}
	}
	return out, nil
}

// pickVariant is the variant named want, or when want is "" the one of
// the highest BANDWIDTH (then AVERAGE-BANDWIDTH, then the first listed);
// an unknown name is an error listing the names.
func pickVariant(id, want string, vs []recordingVariant) (recordingVariant, error) {
	if len(vs) == 0 {
		return recordingVariant{}, fmt.Errorf("recording %s lists no renditions: nothing to export", id)
	}
	if want == "" {
		best := vs[0]
		for _, v := range vs[1:] {
			if v.Bandwidth > best.Bandwidth || v.Bandwidth == best.Bandwidth && v.AverageBandwidth > best.AverageBandwidth {
				best = v
			}
		}
		return best, nil
	}
	for _, v := range vs {
		if v.name == want {
			return v, nil
		}
	}
	return recordingVariant{}, fmt.Errorf("recording %s has no rendition %q: it has %s (lmx rec export %s --rendition %s -o FILE)",
		id, want, variantNames(vs), id, vs[0].name)
}

func variantNames(vs []recordingVariant) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.name
	}
	return strings.Join(names, ", ")
}

// bitRate is a BANDWIDTH for people: 1.2 Mbit/s.
func bitRate(bps int64) string {
	switch {
	case bps >= 1_000_000:
		return fmt.Sprintf("%.1f Mbit/s", float64(bps)/1e6)
	case bps >= 1_000:
		return fmt.Sprintf("%.0f kbit/s", float64(bps)/1e3)
	}
	return fmt.Sprintf("%d bit/s", bps)
}

// fetchRecordingPlaylist gets the media playlist to export: the recording's
// own, or, for a recording of several renditions, the one picked by
// rendition (pickVariant; note, when not "", says which was picked for
// want ""). renditions are what the recording says it holds, for a
// --rendition asked of a recording that plays as one media playlist.
func fetchRecordingPlaylist(ctx context.Context, f fetcher, id, playbackURL, rendition string, renditions []string) (pl *hls.MediaPlaylist, base *url.URL, note string, err error) {
	var variants []recordingVariant
	pl, base, err = fetchPlaylistOr(ctx, f, playbackURL, func(body io.Reader) error {
		var verr error
		variants, verr = readVariants(body)
		return verr
	})
	if err != nil {
		return nil, nil, "", err
	}
	if pl != nil {
		switch {
		case rendition == "":
		case len(renditions) == 0:
			return nil, nil, "", fmt.Errorf("recording %s has no renditions (its source pushed one stream): export it without --rendition", id)
		case len(renditions) == 1 && renditions[0] == rendition:
		default:
			return nil, nil, "", fmt.Errorf("recording %s has no rendition %q: it has %s", id, rendition, strings.Join(renditions, ", "))
		}
		return pl, base, "", nil
	}
	v, err := pickVariant(id, rendition, variants)
	if err != nil {
		return nil, nil, "", err
	}
	if rendition == "" {
		note = fmt.Sprintf("recording %s has renditions %s: exporting %s, the highest bandwidth (%s); choose another with --rendition",
			id, variantNames(variants), v.name, bitRate(v.Bandwidth))
	}
	ref, err := url.Parse(v.URI)
	if err != nil {
		return nil, nil, "", fmt.Errorf("rendition %s: bad playlist URI %q: %w", v.name, v.URI, err)
	}
	pl, base, err = fetchPlaylist(ctx, f, base.ResolveReference(ref).String())
	return pl, base, note, err
}
