package mgmt

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/internal/pullurl"
	"github.com/lmx-video/lmx/internal/redact"
	"github.com/lmx-video/lmx/sqlstore"
)

// SourceDefaults are the node's values for what a source leaves at 0.
type SourceDefaults struct {
	// Idle is how long an on-demand source uploads after the last playlist request.
	Idle time.Duration
	// RecordChunk is the length of one continuous-recording chunk.
	RecordChunk time.Duration
	// Retain is how long recordings are kept; 0 is for good.
	Retain time.Duration
}

// Bounds of what an operator may set on a source.
const (
	maxIdle        = 24 * time.Hour
	minRecordChunk = 10 * time.Second
	maxRecordChunk = 24 * time.Hour
	maxRetain      = 100 * 365 * 24 * time.Hour
)

// fieldError is a 400 naming the field.
type fieldError struct{ msg, detail string }

func (e *fieldError) Error() string { return e.msg }

func badField(detail, format string, args ...any) *fieldError {
	return &fieldError{msg: fmt.Sprintf(format, args...), detail: detail}
}

// cameraChange checks the camera, on-demand, recording and retention
// fields of a request and turns them into a store change.
func cameraChange(pull *string, onDemand *bool, idle *int, record *string, chunk *int, retain *int64) (sqlstore.SourceChange, *fieldError) {
	var c sqlstore.SourceChange
	if pull != nil {
		u := strings.TrimSpace(*pull)
		if u != "" {
			if err := pullurl.Validate(u); err != nil {
				return c, badField("a pull URL is what ffmpeg reads from the camera, e.g. rtsp://user:pass@10.0.0.7/stream", "pull_url: %v", err)
			}
		}
		c.PullURL = &u
	}
	c.OnDemand = onDemand
	if idle != nil {
		d := time.Duration(*idle) * time.Second
		if d < 0 || d > maxIdle {
			return c, badField("0 takes the node's default (60 s)", "idle_seconds %d: must be between 0 and %d", *idle, int(maxIdle/time.Second))
		}
		c.Idle = &d
	}
	if record != nil {
		m := strings.ToLower(strings.TrimSpace(*record))
		if m != sqlstore.RecordOff && m != sqlstore.RecordAlways {
			return c, badField("", "record %q: want %q or %q", *record, api.RecordOff, api.RecordAlways)
		}
		c.RecordMode = &m
	}
	if chunk != nil {
		d := time.Duration(*chunk) * time.Second
		if d != 0 && (d < minRecordChunk || d > maxRecordChunk) {
			return c, badField("0 takes the node's default (1 h)", "record_chunk_seconds %d: must be between %d and %d", *chunk, int(minRecordChunk/time.Second), int(maxRecordChunk/time.Second))
		}
		c.RecordChunk = &d
	}
	if retain != nil {
		var d time.Duration
		switch {
		case *retain == api.RetainForever:
			d = sqlstore.RetainForever
		case *retain < 0 || time.Duration(*retain)*time.Second > maxRetain:
			return c, badField("0 takes the node's --retain, -1 keeps recordings for good", "retain_seconds %d: must be -1, 0 or up to %d", *retain, int64(maxRetain/time.Second))
		default:
			d = time.Duration(*retain) * time.Second
		}
		c.Retain = &d
	}
	return c, nil
}

// pullEdge chooses the edge a pulled source goes to when the request names
// none: the one online edge. With none or several online it says which to
// name.
func (a *API) pullEdge(ctx context.Context) (string, *fieldError) {
	edges, err := a.d.Store.ListEdges(ctx)
	if err != nil {
		return "", badField("", "list edges: %v", err)
	}
	var online []string
	for _, e := range edges {
		if st, _, ok := a.d.Edges.Status(e.Name); ok && st.Online {
			online = append(online, e.Name)
		}
	}
	sort.Strings(online)
	switch len(online) {
	case 1:
		return online[0], nil
	case 0:
		return "", badField("add one with `lmx edge add NAME`, start it, or name the edge that will run the camera's ffmpeg with --edge", "pull_url needs an edge to run ffmpeg and no edge is online")
	default:
		return "", badField("name one with --edge (edge in the API)", "pull_url: %d edges are online (%s): say which one pulls the camera", len(online), strings.Join(online, ", "))
	}
}

// renderCamera fills out's camera, on-demand, recording and retention fields.
func (a *API) renderCamera(out *api.Source, src sqlstore.Source, es *broker.SourceStatus) {
	out.PullURL = redact.URL(src.PullURL)
	out.OnDemand = src.OnDemand
	out.Record = src.RecordMode
	if out.Record == "" {
		out.Record = api.RecordOff
	}
	idle := src.Idle
	if idle == 0 {
		idle = a.cfg.Defaults.Idle
	}
	if src.OnDemand {
		out.IdleSeconds = int(idle / time.Second)
		out.Awake = a.awake(src)
	}
	chunk := src.RecordChunk
	if chunk == 0 {
		chunk = a.cfg.Defaults.RecordChunk
	}
	if src.RecordMode == sqlstore.RecordAlways {
		out.RecordChunkSeconds = int(chunk / time.Second)
	}
	switch src.Retain {
	case sqlstore.RetainForever:
		out.RetainSeconds = api.RetainForever
	default:
		out.RetainSeconds = int64(src.Retain / time.Second)
	}
	if es != nil && es.Pull != nil && src.PullURL != "" {
		out.Pull = pullState(es.Pull, src.PullURL)
	}
}

// pullState renders an edge's pull report, the camera's credentials masked
// once more (raw is the source's pull URL, "" when not known here): the
// edge and the tracker mask them already, and an answer must never show
// them whichever side slipped.
func pullState(p *broker.PullStatus, raw string) *api.PullState {
	mask := func(s string) string { return redact.Text(redact.Line(s, raw)) }
	out := &api.PullState{State: p.State, Since: p.Since, Restarts: p.Restarts, LastError: mask(p.LastError),
		Video: p.Video, Audio: p.Audio}
	for _, w := range p.Warnings {
		out.Warnings = append(out.Warnings, mask(w))
	}
	return out
}

// failField answers a fieldError.
func failField(w http.ResponseWriter, r *http.Request, fe *fieldError) {
	envelope.Fail(w, r, http.StatusBadRequest, fe.msg, fe.detail)
}

// changeDetail says in an event what a change set, pull URLs masked.
func changeDetail(c sqlstore.SourceChange) string {
	var parts []string
	if c.Public != nil {
		parts = append(parts, fmt.Sprintf("public=%t", *c.Public))
	}
	if c.Description != nil {
		parts = append(parts, "description")
	}
	if c.PullURL != nil {
		if *c.PullURL == "" {
			parts = append(parts, "pull off")
		} else {
			parts = append(parts, "pull "+redact.URL(*c.PullURL))
		}
	}
	if c.OnDemand != nil {
		parts = append(parts, fmt.Sprintf("on_demand=%t", *c.OnDemand))
	}
	if c.Idle != nil {
		parts = append(parts, "idle="+c.Idle.String())
	}
	if c.RecordMode != nil {
		parts = append(parts, "record="+*c.RecordMode)
	}
	if c.RecordChunk != nil {
		parts = append(parts, "record_chunk="+c.RecordChunk.String())
	}
	if c.Retain != nil {
		if *c.Retain == sqlstore.RetainForever {
			parts = append(parts, "retain=forever")
		} else {
			parts = append(parts, "retain="+c.Retain.String())
		}
	}
	if c.Feeds != nil {
		parts = append(parts, "feeds="+string(*c.Feeds))
	}
	if c.Prefer != nil {
		parts = append(parts, "prefer="+*c.Prefer)
	}
	return strings.Join(parts, " ")
}

// edgePull renders what edge reports of its pull of src, masked with the
// pull URL of the source it names when that source is edge's.
func (a *API) edgePull(ctx context.Context, edge string, src broker.SourceStatus) *api.PullState {
	if src.Pull == nil {
		return nil
	}
	raw := ""
	if s, err := a.d.Store.GetSource(ctx, src.Name); err == nil && s.Edge == edge {
		raw = s.PullURL
	}
	return pullState(src.Pull, raw)
}

// knownEdge refuses an edge the node has never heard of (neither reported
// nor added with `lmx edge add`): a source bound to a misspelt edge would
// wait for it for good, with nothing saying why.
func (a *API) knownEdge(ctx context.Context, name string) *fieldError {
	if _, err := a.d.Store.GetEdge(ctx, name); err == nil {
		return nil
	}
	if a.d.Access != nil && slices.Contains(a.d.Access.EdgeNames(), name) {
		return nil
	}
	edges, _ := a.d.Store.ListEdges(ctx)
	var names []string
	for _, e := range edges {
		names = append(names, e.Name)
	}
	known := "none yet: add one with `lmx edge add NAME`"
	if len(names) > 0 {
		sort.Strings(names)
		known = strings.Join(names, ", ")
	}
	return badField("known edges: "+known, "edge %q is not known to this control node", name)
}

// awake reports whether an on-demand source is awake.
func (a *API) awake(src sqlstore.Source) bool {
	return src.OnDemand && a.d.OnDemand != nil && a.d.OnDemand.Awake(src.ID)
}

// onDemandChanged keeps the live window in step when a source turns
// on-demand on or off: a sleeping on-demand source has no window (its
// edge uploads nothing live), so turning it on closes the window unless
// someone woke it, and turning it off opens it again for a streaming
// source. Called before the edge's desired state is published.
func (a *API) onDemandChanged(src sqlstore.Source) {
	if src.OnDemand {
		if !a.awake(src) {
			a.d.Live.Close(src.ID)
		}
		return
	}
	if a.d.OnDemand != nil {
		a.d.OnDemand.Forget(src.ID)
	}
	if src.Streaming {
		a.d.Live.Allow(src.ID)
	}
}

// forgetAwake drops a source removed or turned off from the awake set.
func (a *API) forgetAwake(id string) {
	if a.d.OnDemand != nil {
		a.d.OnDemand.Forget(id)
	}
}
