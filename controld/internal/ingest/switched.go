package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/lmx-video/lmx/controld/internal/feeds"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/recording"
)

// ListSwitched lists and records a new active feed's held segments, as
// Accept would have had they been the active feed's (feeds.Lister). The
// live appends happen now, before any later upload of the feed; the
// recordings are written in the background (the selector's lock is held,
// and the spool's fsync is no business of the live path).
func (s *Service) ListSwitched(src feeds.Source, segs []feeds.Segment) {
	var record []feeds.Segment
	for _, seg := range segs {
		if len(seg.Recordings) > 0 {
			record = append(record, seg)
		}
		if !seg.Live || !src.Streaming || src.OnDemand && s.cfg.OnDemand != nil && !s.cfg.OnDemand.Awake(src.ID) {
			continue
		}
		v, _ := seg.Variant.(live.Variant)
		a := live.Arrival{Edge: seg.Edge, Boot: seg.Boot, EdgeSeq: seg.EdgeSeq, Duration: seg.Duration, Start: seg.Start, Discontinuity: seg.Discontinuity, Init: seg.Init,
			Rendition: seg.Rendition, RenditionSeq: seg.RenditionSeq, Variant: v}
		_, err := s.live.Append(src.ID, src.Name, src.SegmentLen, a, seg.Data)
		if err != nil && !errors.Is(err, live.ErrStreamingOff) && !errors.Is(err, live.ErrAlreadyListed) {
			s.drop("live_refused")
			s.logger.Error("held segment of the new active feed not listed", "source", src.Name, "edge", seg.Edge, "edge_seq", seg.EdgeSeq, "err", err)
		}
	}
	if len(record) == 0 {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, seg := range record {
			iseg, err := s.initFor(src.ID, src.Name, seg.Init)
			if err != nil {
				s.logger.Error("held segment of the new active feed not recorded: its init segment is gone", "source", src.Name, "edge", seg.Edge, "edge_seq", seg.EdgeSeq, "err", err)
				continue
			}
			rs := recording.Segment{
				SourceID: src.ID, Edge: seg.Edge, Boot: seg.Boot, EdgeSeq: seg.EdgeSeq,
				Duration: seg.Duration, Start: seg.Start, Discontinuity: seg.Discontinuity, Arrived: seg.Arrived,
				Init: iseg, Rendition: seg.Rendition, RenditionSeq: seg.RenditionSeq,
			}
			if _, _, err := s.rec.Record(ctx, rs, seg.Recordings, seg.Data); err != nil {
				s.drop("spool_failed")
				s.logger.Error("held segment of the new active feed not recorded", "source", src.Name, "edge", seg.Edge, "edge_seq", seg.EdgeSeq, "err", err)
			}
		}
	}()
}
