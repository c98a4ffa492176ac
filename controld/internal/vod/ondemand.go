package vod

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/sqlstore"
)

// OnDemand wakes on-demand sources and keeps them awake (ondemand.Demand).
type OnDemand interface {
	// Touch keeps an awake source awake: its playlist was served.
	Touch(sourceID string)
	// Wake wakes src for an authorized playlist request; an error says
	// why its edge cannot deliver now.
	Wake(ctx context.Context, src sqlstore.Source) (bool, error)
}

// How a playlist request for a sleeping on-demand source waits for its
// edge: the promise is a playable playlist within 1.5 s of the
// request, so the wait ends a little before, leaving time to answer.
const (
	// wakeBudget bounds the wait, from the request's arrival.
	wakeBudget = 1400 * time.Millisecond
	// wakeWant is how many segments are waited for: players start about
	// three target durations from the live edge (hls.js plays from one,
	// but stalls sooner).
	wakeWant = 3
	// wakeSettle is how long after the newest upload the edge's burst of
	// buffered segments is taken to be over, when fewer than wakeWant
	// came: what the window lists then is all the edge had.
	wakeSettle = 250 * time.Millisecond
	// wakePoll is how often the live window is looked at while waiting.
	wakePoll = 20 * time.Millisecond
	// wakeRetryAfter is the Retry-After of a wake that did not deliver.
	wakeRetryAfter = 2
)

// wakeAndServe wakes a sleeping on-demand source for a playlist request
// that may watch it (g is its grant, "" when none is needed), waits for
// its edge's first uploads and answers the live playlist, or 503 with
// Retry-After when nothing came in time. The wait is bounded by
// wakeBudget and ends with the listener's shutdown; fasthttp does not tell
// a handler that its client went away, so a client that gave up costs at
// most the budget.
func (s *Server) wakeAndServe(ctx *fasthttp.RequestCtx, src sqlstore.Source, g string) {
	start := ctx.Time()
	deadline := start.Add(wakeBudget)
	woken, werr := s.demand.Wake(s.base, src)
	if werr != nil {
		s.notWoken(ctx, src, werr.Error(), "the edge gets the request when it connects; see `lmx edge ls`")
		return
	}
	timer := time.NewTimer(wakePoll)
	defer timer.Stop()
	for {
		now := time.Now()
		if ls, ok := s.live.Get(src.ID); ok {
			st := ls.Stats(now)
			settled := !st.LastSegmentAt.IsZero() && now.Sub(st.LastSegmentAt) >= wakeSettle
			if pl := ls.Playlist(); pl != nil && st.Listed > 0 && (st.Listed >= wakeWant || settled || !now.Before(deadline)) {
				h := &ctx.Response.Header
				h.SetContentTypeBytes(playlistType)
				h.SetCanonical(hCacheControl, ls.CacheControl())
				setPlaylist(ctx, pl, g)
				s.m.LivePlaylists.Inc()
				ls.Viewed(start)
				s.demand.Touch(src.ID)
				if woken && s.m.WakeSeconds != nil {
					s.m.WakeSeconds.Observe(time.Since(start).Seconds())
				}
				return
			}
		}
		// An adaptive-bitrate source: its multivariant playlist once every
		// rendition it has so far is playable.
		if rs := s.live.Renditions(src.ID); len(rs) > 0 && renditionsReady(rs, now, !now.Before(deadline)) {
			s.multivariant(ctx, rs)
			if woken && s.m.WakeSeconds != nil {
				s.m.WakeSeconds.Observe(time.Since(start).Seconds())
			}
			return
		}
		if !now.Before(deadline) {
			break
		}
		timer.Reset(min(wakePoll, deadline.Sub(now)))
		select {
		case <-s.base.Done():
			envelope.FailFast(ctx, http.StatusServiceUnavailable, "the control node is shutting down", "")
			return
		case <-timer.C:
		}
	}
	s.notWoken(ctx, src, fmt.Sprintf("source %q is on demand and its edge %q sent no segment within %.1f s of the request", src.Name, src.Edge, wakeBudget.Seconds()),
		"it is waking up: ask again (players retry by themselves); if this persists see `lmx source show "+src.Name+"`")
}

// notWoken answers 503 for an on-demand source that has nothing to play yet.
func (s *Server) notWoken(ctx *fasthttp.RequestCtx, src sqlstore.Source, msg, detail string) {
	if s.m.WakeFailures != nil {
		s.m.WakeFailures.Inc()
	}
	s.logger.Info("on-demand playlist not ready", "source", src.Name, "reason", msg)
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(wakeRetryAfter))
	envelope.FailFast(ctx, http.StatusServiceUnavailable, msg, detail)
}

// renditionsReady reports whether every rendition window lists what a
// woken source's single window would (see wakeAndServe).
func renditionsReady(rs []*live.Stream, now time.Time, late bool) bool {
	for _, ls := range rs {
		st := ls.Stats(now)
		settled := !st.LastSegmentAt.IsZero() && now.Sub(st.LastSegmentAt) >= wakeSettle
		if ls.Playlist() == nil || st.Listed == 0 || !(st.Listed >= wakeWant || settled || late) {
			return false
		}
	}
	return true
}
