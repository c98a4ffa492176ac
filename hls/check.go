package hls

import "fmt"

// CheckLive checks the RFC 8216 rules a single live playlist must follow:
// every EXTINF rounded to the nearest second is at most the target
// duration, the listed segments cover at least three target durations, and
// neither EXT-X-PLAYLIST-TYPE nor EXT-X-ENDLIST is present. Errors wrap
// ErrLiveRule; the coverage error also wraps ErrShortWindow because a
// stream's very first playlists are legitimately short (RFC 8216 only
// forbids removing segments below three target durations, which
// CheckLiveTransition checks).
func CheckLive(p *MediaPlaylist) error {
	if p == nil {
		return ruleErr("no playlist")
	}
	if p.PlaylistType != "" {
		return ruleErr("live playlist has EXT-X-PLAYLIST-TYPE:%s", p.PlaylistType)
	}
	if p.EndList {
		return ruleErr("live playlist has EXT-X-ENDLIST")
	}
	for i, s := range p.Segments {
		if r := roundedSeconds(s.Duration); r > p.TargetDuration {
			return ruleErr("segment %d (%q, sequence %d): EXTINF %g rounds to %d s, above EXT-X-TARGETDURATION %d",
				i, s.URI, p.MediaSequence+uint64(i), s.Duration, r, p.TargetDuration)
		}
	}
	if covered, need := coverage(p), 3*int64(p.TargetDuration)*1000; covered < need {
		return fmt.Errorf("%w: %w: %d segments cover %.3f s, less than 3 × EXT-X-TARGETDURATION %d = %d s",
			ErrLiveRule, ErrShortWindow, len(p.Segments), float64(covered)/1000, p.TargetDuration, 3*p.TargetDuration)
	}
	return nil
}

// CheckLiveTransition checks that cur may follow prev as successive
// reloads of one live playlist: EXT-X-MEDIA-SEQUENCE never goes back,
// EXT-X-TARGETDURATION never changes, when the media sequence rose by k
// the first len(prev.Segments)-k segments of cur are the last ones of prev
// (same URIs), EXT-X-DISCONTINUITY-SEQUENCE never goes back and rises by
// exactly the number of EXT-X-DISCONTINUITY tags that slid out, and
// segments were removed only while at least three target durations remain.
// Errors wrap ErrLiveRule.
func CheckLiveTransition(prev, cur *MediaPlaylist) error {
	if prev == nil || cur == nil {
		return ruleErr("no playlist")
	}
	if cur.MediaSequence < prev.MediaSequence {
		return ruleErr("EXT-X-MEDIA-SEQUENCE went back from %d to %d", prev.MediaSequence, cur.MediaSequence)
	}
	if cur.TargetDuration != prev.TargetDuration {
		return ruleErr("EXT-X-TARGETDURATION changed from %d to %d", prev.TargetDuration, cur.TargetDuration)
	}
	if cur.DiscontinuitySequence < prev.DiscontinuitySequence {
		return ruleErr("EXT-X-DISCONTINUITY-SEQUENCE went back from %d to %d",
			prev.DiscontinuitySequence, cur.DiscontinuitySequence)
	}
	k := cur.MediaSequence - prev.MediaSequence
	if k < uint64(len(prev.Segments)) {
		// The window slid by k: what is left of prev must open cur.
		kept := prev.Segments[k:]
		if len(cur.Segments) < len(kept) {
			return ruleErr("EXT-X-MEDIA-SEQUENCE rose by %d but cur lists %d segments, fewer than the %d of prev still expected",
				k, len(cur.Segments), len(kept))
		}
		for i, s := range kept {
			if cur.Segments[i].URI != s.URI {
				return ruleErr("segment with sequence %d is %q in prev but %q in cur",
					cur.MediaSequence+uint64(i), s.URI, cur.Segments[i].URI)
			}
		}
		var slid uint64
		for _, s := range prev.Segments[:k] {
			if s.Discontinuity {
				slid++
			}
		}
		if want := prev.DiscontinuitySequence + slid; cur.DiscontinuitySequence != want {
			return ruleErr("EXT-X-DISCONTINUITY-SEQUENCE is %d, want %d (%d + %d discontinuities that slid out)",
				cur.DiscontinuitySequence, want, prev.DiscontinuitySequence, slid)
		}
	}
	// RFC 8216 6.2.2: a segment may be removed only if at least three
	// target durations remain. New segments only add duration, so if any
	// were removed, cur itself must cover that much.
	if k > 0 {
		if covered, need := coverage(cur), 3*int64(cur.TargetDuration)*1000; covered < need {
			return ruleErr("%d segments were removed although the window covers only %.3f s, less than 3 × EXT-X-TARGETDURATION %d = %d s",
				k, float64(covered)/1000, cur.TargetDuration, 3*cur.TargetDuration)
		}
	}
	return nil
}

// coverage is the listed duration in milliseconds.
func coverage(p *MediaPlaylist) int64 {
	var ms int64
	for _, s := range p.Segments {
		ms += millis(s.Duration)
	}
	return ms
}

func ruleErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrLiveRule, fmt.Sprintf(format, args...))
}
