package mgmt

import (
	"context"
	"slices"
	"strings"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/feeds"
	"github.com/lmx-video/lmx/sqlstore"
)

// FeedView shows a multi-feed source's feeds and switches (feeds.Selector).
type FeedView interface {
	View(src feeds.Source) ([]feeds.Feed, []feeds.Switch)
}

// maxFeeds bounds a source's feeds: every one uploads every segment.
const maxFeeds = 4

// feedsChange checks the feeds and prefer fields of a request against
// cur, the source as it would be without them, and sets them on c.
func (a *API) feedsChange(ctx context.Context, c *sqlstore.SourceChange, cur sqlstore.Source, list *[]string, prefer *string) *fieldError {
	if list != nil {
		names := make([]string, 0, len(*list))
		for _, n := range *list {
			n = strings.TrimSpace(n)
			if err := broker.ValidateName(n); err != nil {
				return badField("", "feeds: %q: %v", n, err)
			}
			if slices.Contains(names, n) {
				return badField("", "feeds: edge %q is named twice", n)
			}
			if fe := a.knownEdge(ctx, n); fe != nil {
				fe.msg = "feeds: " + fe.msg
				return fe
			}
			names = append(names, n)
		}
		switch {
		case len(names) == 0:
			return badField("a source has at least one feed; to move it, name the new one", "feeds: the list is empty")
		case len(names) > maxFeeds:
			return badField("every feed uploads every segment", "feeds: %d edges, at most %d", len(names), maxFeeds)
		}
		l := sqlstore.NewEdgeList(names)
		c.Feeds = &l
		cur.SetFeeds(names)
	}
	if prefer != nil {
		p := strings.TrimSpace(*prefer)
		if p != "" && !cur.FedBy(p) {
			feedsNow := cur.Feeds()
			if len(feedsNow) == 0 {
				return badField("add feeds first (feeds, or lmx source set --feeds)", "prefer %q: the source has no feeds yet", p)
			}
			return badField("prefer one of its feeds, or add it with feeds", "prefer %q is not a feed of the source (its feeds: %s)", p, strings.Join(feedsNow, ", "))
		}
		c.Prefer = &p
	}
	return nil
}

// feedSource is what the feed selector knows of src.
func feedSource(src sqlstore.Source) feeds.Source {
	return feeds.Source{ID: src.ID, Name: src.Name, Feeds: src.Feeds(), Prefer: src.Prefer, SegmentLen: src.SegmentLen,
		Streaming: src.Streaming, OnDemand: src.OnDemand}
}

// renderFeeds fills out's feeds and switches, and returns the edge whose
// report the source's status follows: the active feed of a multi-feed
// source, else its edge.
func (a *API) renderFeeds(out *api.Source, src sqlstore.Source) string {
	out.Prefer = src.Prefer
	if src.StandbyFeeds == "" || a.d.Feeds == nil {
		return src.Edge
	}
	fs, sws := a.d.Feeds.View(feedSource(src))
	status := src.Edge
	for _, f := range fs {
		af := api.Feed{Edge: f.Edge, Active: f.Active, Fenced: f.Fenced, Healthy: f.Healthy, LastSegmentAt: f.LastSegmentAt.UTC(),
			Segments: f.Segments, Held: f.Held}
		if f.LastSegmentAt.IsZero() {
			af.LastSegmentAt = f.LastSegmentAt
		}
		if st, _, ok := a.d.Edges.Status(f.Edge); ok {
			af.EdgeOnline = st.Online
		}
		if f.Active {
			status = f.Edge
		}
		out.Feeds = append(out.Feeds, af)
	}
	for _, s := range sws {
		out.Switches = append(out.Switches, api.FeedSwitch{At: s.At.UTC(), From: s.From, To: s.To, Reason: s.Reason, Detail: s.Detail,
			LateByMS: s.LateBy.Milliseconds(), Listed: s.Listed})
	}
	return status
}
