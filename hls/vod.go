package hls

// RenderRecording renders the playlist of a recording made of segs, in
// order. While the recording runs (ended false) it is an EVENT playlist,
// which players treat as growing and reload; once ended it is VOD with
// EXT-X-ENDLIST, so players can seek through it and stop polling.
//
// EXT-X-MEDIA-SEQUENCE is always 0 because nothing is ever removed from a
// recording, and EXT-X-TARGETDURATION is the longest segment rounded up
// (at least 1). Note that while recording, a new segment longer than all
// before it raises the target, which RFC 8216 6.2.1 forbids for a reloaded
// playlist. Segments with a Map get EXT-X-MAP (and EXT-X-VERSION 6), a new
// one after an EXT-X-DISCONTINUITY where it changes. With ffmpeg cutting at a fixed -hls_time and a steady GOP the
// longest segment is reached early, so this stays theoretical; a caller
// that needs a guaranteed stable target must bound segment lengths itself.
func RenderRecording(segs []LiveSegment, ended bool) []byte {
	target := 1
	for _, s := range segs {
		target = max(target, ceilSeconds(servedDuration(s.Duration)))
	}
	typ := PlaylistTypeEvent
	if ended {
		typ = PlaylistTypeVOD
	}
	w := newWriter(len(segs))
	w.header(header{
		version:      versionFor(segs),
		target:       target,
		independent:  true,
		playlistType: typ,
	})
	for i, s := range segs {
		// A new init segment starts new media: a discontinuity.
		disc := s.Discontinuity || i > 0 && s.Map != segs[i-1].Map
		w.segment(s.URI, s.Map, "", sane(s.Duration), disc, s.ProgramDateTime, servedFormat)
	}
	if ended {
		w.endList()
	}
	return w.bytes()
}
