package mgmt

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/sqlstore"
)

// minPushedWindow is the least a source's newest segment may be old for
// the source to count as still pushed; three target durations when that
// is longer. It matches edges.RecentPush: a source the API lets go without
// --force is never registered again from an edge's heartbeat.
const minPushedWindow = 10 * time.Second

// stillPushed says whether a pushed source's edge is online and pushed it
// lately (its registration or upload, the live window's newest segment, or
// the edge's own report, by the edge's clock turned into ours), and how
// long ago.
func (a *API) stillPushed(src sqlstore.Source) (age time.Duration, pushed bool) {
	if src.Edge == "" || src.PullURL != "" {
		return 0, false
	}
	st, seen, ok := a.d.Edges.Status(src.Edge)
	if !ok || !st.Online {
		return 0, false
	}
	now := a.now()
	// A push registers the name before the edge's next heartbeat reports
	// its segments: that registration counts too.
	newest := a.d.Edges.LastPush(src.Name)
	if ls, ok := a.d.Live.Get(src.ID); ok {
		if at := ls.Stats(now).LastSegmentAt; at.After(newest) {
			newest = at
		}
	}
	for _, es := range st.Sources {
		if es.Name != src.Name || es.LastSegmentAt.IsZero() {
			continue
		}
		at := es.LastSegmentAt
		if !st.Time.IsZero() && !seen.IsZero() {
			at = seen.Add(es.LastSegmentAt.Sub(st.Time))
		}
		if at.After(newest) {
			newest = at
		}
	}
	if newest.IsZero() {
		return 0, false
	}
	window := max(3*time.Duration(max(src.SegmentLen, 1))*time.Second, minPushedWindow)
	age = max(now.Sub(newest), 0)
	return age, age <= window
}

// deleteSource removes a source. One still pushed is refused (409) unless
// ?force=true: removed now, the next push would register it again under
// the operator's feet. Forced, its name is kept out of auto-registration
// until an operator adds it again. A pulled source just goes (and is kept
// out the same way): its edge stops its ffmpeg when its desired state no
// longer lists it.
func (a *API) deleteSource(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	force := false
	if raw := r.URL.Query().Get("force"); raw != "" {
		var err error
		if force, err = strconv.ParseBool(raw); err != nil {
			envelope.Fail(w, r, http.StatusBadRequest, fmt.Sprintf("force %q: want true or false", raw), "")
			return
		}
	}
	src, err := a.d.Store.GetSource(ctx, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	age, pushed := a.stillPushed(src)
	if pushed && !force && !a.cfg.NoAutoRegister {
		envelope.Fail(w, r, http.StatusConflict,
			fmt.Sprintf("source %q is still being pushed by edge %q (last segment %s ago): removed now, its next push would register it again", src.Name, src.Edge, age.Round(time.Second)),
			fmt.Sprintf("stop the push first, the ffmpeg sending Video-Source-Name: %s to edge %s; or `lmx source rm %s --force`, which removes it and keeps the name from registering again until `lmx source add %s`; or run the control node with --no-auto-register",
				src.Name, src.Edge, src.Name, src.Name))
		return
	}
	// A pulled source's name is kept out too: its edge's ffmpeg may push
	// once more before the edge stops it, and that push, or the heartbeat
	// that lists it, would register it again as a pushed source.
	keepOut := force || src.PullURL != ""
	if keepOut {
		err = a.d.Store.DeleteSourceKeepOut(ctx, src.ID, p.Name)
	} else {
		err = a.d.Store.DeleteSource(ctx, src.ID)
	}
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	a.d.Live.Close(src.ID)
	a.forgetAwake(src.ID)
	if a.d.Access != nil {
		a.d.Access.SetPublic(src.ID, false)
	}
	a.d.Edges.PublishDesired(ctx, src.Feeds()...)
	detail := ""
	switch {
	case src.PullURL != "":
		detail = "pull stopped; not registered again until added"
	case keepOut && pushed:
		detail = fmt.Sprintf("while pushed by edge %s; not registered again until added", src.Edge)
	case keepOut:
		detail = "not registered again until added"
	}
	a.logger.Info("source removed", "source", src.Name, "edge", src.Edge, "by", p.Name, "detail", detail)
	a.emit(broker.EventSourceRemoved, broker.Event{Source: src.Name, Edge: src.Edge, Detail: detail}, p)
	envelope.Write(w, http.StatusOK, envelope.OK(w, r))
}
