package cli

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/lmx-video/lmx/api"
)

// The fake control node's recordings. Their state lives in fakeClient
// (fake_test.go) next to sources and edges.

// recCall is what a recording method was asked.
type recCall struct {
	method string
	ref    string // source or recording id/name
	active bool   // ListRecordings' activeOnly
	force  bool   // DeleteRecording's force
	new    api.NewRecording
}

// Recording ids of recFake.
const (
	recActive  = "0190f3a2-0000-7000-8000-00000000000a"
	recStopped = "0190f3a1-0000-7000-8000-00000000000b"
	recEmpty   = "0190f3a0-0000-7000-8000-00000000000c"
	recNew     = "0190f3a3-0000-7000-8000-00000000000d"
)

func recPlayback(id string) string {
	return "http://ctl.example:8081/v1/vod/recording/" + id + "/vid.m3u8"
}

// recFake is newFake with three recordings: an active one and a stopped
// one (with two gaps) of camera-0, and an empty stopped one of camera-1.
func recFake() *fakeClient {
	fc := newFake()
	cam0, cam1 := fc.sources[1], fc.sources[0]
	fc.recordings = []api.Recording{
		{
			ID: recEmpty, Source: cam1.ID, SourceName: cam1.Name,
			StartTS: testNow.Add(-26 * time.Hour), EndTS: testNow.Add(-25 * time.Hour), Active: api.ActiveOff,
			CreatedAt: testNow.Add(-26 * time.Hour), UpdatedAt: testNow.Add(-25 * time.Hour),
		},
		{
			ID: recActive, Source: cam0.ID, SourceName: cam0.Name, Alias: "door opened",
			StartTS: testNow.Add(-90 * time.Second), Active: api.ActiveOn,
			CreatedAt: testNow.Add(-60 * time.Second), UpdatedAt: testNow.Add(-2 * time.Second),
			Segments: 23, DurationSeconds: 92.3, Bytes: 12_582_912,
			PlaybackURL:    recPlayback(recActive),
			FirstSegmentAt: testNow.Add(-90 * time.Second), LastSegmentEnd: testNow.Add(-2 * time.Second),
		},
		{
			ID: recStopped, Source: cam0.ID, SourceName: cam0.Name, Alias: "delivery", Description: "Truck at the north gate",
			StartTS: testNow.Add(-2 * time.Hour), EndTS: testNow.Add(-110 * time.Minute), Active: api.ActiveOff,
			CreatedAt: testNow.Add(-2 * time.Hour), UpdatedAt: testNow.Add(-110 * time.Minute),
			Segments: 146, DurationSeconds: 584, Bytes: 83_886_080,
			PlaybackURL:    recPlayback(recStopped),
			FirstSegmentAt: testNow.Add(-2 * time.Hour), LastSegmentEnd: testNow.Add(-110 * time.Minute),
			Gaps: []api.Gap{
				{From: testNow.Add(-115 * time.Minute), To: testNow.Add(-115*time.Minute + 12*time.Second), Seconds: 12},
				{From: testNow.Add(-112 * time.Minute), To: testNow.Add(-112*time.Minute + 4500*time.Millisecond), Seconds: 4.5},
			},
		},
	}
	return fc
}

func recNotFound(id string) error {
	return &api.StatusError{Status: http.StatusNotFound, Message: fmt.Sprintf("recording %q not found", id)}
}

func (f *fakeClient) findRec(id string) int {
	return slices.IndexFunc(f.recordings, func(r api.Recording) bool { return r.ID == id })
}

func (f *fakeClient) StartRecording(_ context.Context, source string, nr api.NewRecording) (api.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recCalls = append(f.recCalls, recCall{method: "StartRecording", ref: source, new: nr})
	if err := f.call("StartRecording"); err != nil {
		return api.Recording{}, err
	}
	i := f.find(source)
	if i < 0 {
		return api.Recording{}, notFound()
	}
	start := testNow
	if nr.StartTimeEpoch != 0 {
		start = time.Unix(nr.StartTimeEpoch, 0).UTC()
	}
	r := api.Recording{
		ID: recNew, Source: f.sources[i].ID, SourceName: f.sources[i].Name,
		Alias: nr.Alias, Description: nr.Description,
		StartTS: start, Active: api.ActiveOn, CreatedAt: testNow, UpdatedAt: testNow,
		PlaybackURL: recPlayback(recNew),
	}
	f.recordings = append(f.recordings, r)
	return r, nil
}

func (f *fakeClient) StopRecording(_ context.Context, id string) (api.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recCalls = append(f.recCalls, recCall{method: "StopRecording", ref: id})
	if err := f.call("StopRecording"); err != nil {
		return api.Recording{}, err
	}
	i := f.findRec(id)
	if i < 0 {
		return api.Recording{}, recNotFound(id)
	}
	f.recordings[i].Active = api.ActiveOff
	f.recordings[i].EndTS = testNow
	return f.recordings[i], nil
}

func (f *fakeClient) PinRecording(_ context.Context, id string, pinned bool) (api.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recCalls = append(f.recCalls, recCall{method: "PinRecording", ref: id, active: pinned})
	if err := f.call("PinRecording"); err != nil {
		return api.Recording{}, err
	}
	i := f.findRec(id)
	if i < 0 {
		return api.Recording{}, recNotFound(id)
	}
	f.recordings[i].Pinned = pinned
	f.recordings[i].ExpiresAt = time.Time{}
	if !pinned && !f.recordings[i].IsActive() {
		f.recordings[i].ExpiresAt = f.recordings[i].EndTS.Add(7 * 24 * time.Hour)
	}
	return f.recordings[i], nil
}

func (f *fakeClient) ListRecordings(_ context.Context, source string, activeOnly bool) ([]api.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recCalls = append(f.recCalls, recCall{method: "ListRecordings", ref: source, active: activeOnly})
	if err := f.call("ListRecordings"); err != nil {
		return nil, err
	}
	srcID := ""
	if source != "" {
		i := f.find(source)
		if i < 0 {
			return nil, notFound()
		}
		srcID = f.sources[i].ID
	}
	var out []api.Recording
	for _, r := range f.recordings {
		if (srcID == "" || r.Source == srcID) && (!activeOnly || r.IsActive()) {
			r.Gaps = nil // only GET /v1/recording/{id} fills them
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeClient) GetRecording(_ context.Context, id string) (api.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recCalls = append(f.recCalls, recCall{method: "GetRecording", ref: id})
	if err := f.call("GetRecording"); err != nil {
		return api.Recording{}, err
	}
	i := f.findRec(id)
	if i < 0 {
		return api.Recording{}, recNotFound(id)
	}
	return f.recordings[i], nil
}

func (f *fakeClient) DeleteRecording(_ context.Context, id string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recCalls = append(f.recCalls, recCall{method: "DeleteRecording", ref: id, force: force})
	if err := f.call("DeleteRecording"); err != nil {
		return err
	}
	i := f.findRec(id)
	if i < 0 {
		return recNotFound(id)
	}
	if f.recordings[i].IsActive() && !force {
		return &api.StatusError{Status: http.StatusConflict, Message: fmt.Sprintf("recording %s is still recording", id)}
	}
	f.recordings = slices.Delete(f.recordings, i, i+1)
	return nil
}
