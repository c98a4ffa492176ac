package live

import (
	"errors"
	"slices"
	"sync"
)

// ErrNoInit means a segment names an init segment the registry does not
// hold (the control node restarted, or the source's window was closed):
// the edge uploads the init segment again.
var ErrNoInit = errors.New("init segment not held")

// maxInitsPerSource bounds the init segments kept for one source: each
// ffmpeg run with other parameters brings one, and only those of the
// segments a window lists (and that a recording is still being fed) are
// needed. An init segment let go is uploaded again by the edge when a
// segment names it.
const maxInitsPerSource = 4

// Init is an fMP4 init segment held for live playback.
type Init struct {
	// ID is broker.InitID(Data).
	ID string
	// Data is its bytes (small: ftyp and moov). Not to be modified.
	Data []byte
}

// initStore holds the init segments of every source, newest last.
type initStore struct {
	mu  sync.RWMutex
	all map[string][]Init // by source id
}

// PutInit holds init segment id of source sourceID; data is kept, not
// copied. The same id again only makes it the newest.
func (r *Registry) PutInit(sourceID, id string, data []byte) {
	s := &r.inits
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all == nil {
		s.all = map[string][]Init{}
	}
	list := slices.DeleteFunc(slices.Clone(s.all[sourceID]), func(i Init) bool { return i.ID == id })
	list = append(list, Init{ID: id, Data: data})
	if len(list) > maxInitsPerSource {
		list = list[len(list)-maxInitsPerSource:]
	}
	s.all[sourceID] = list
}

// Init returns source sourceID's init segment id.
func (r *Registry) Init(sourceID, id string) (Init, bool) {
	s := &r.inits
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, i := range s.all[sourceID] {
		if i.ID == id {
			return i, true
		}
	}
	return Init{}, false
}

// forget drops a source's init segments (its window closed).
func (s *initStore) forget(sourceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.all, sourceID)
}

// Init returns the init segment id the window's segments may follow, for
// a player's request of its EXT-X-MAP URI.
func (ls *Stream) Init(id string) (Init, bool) { return ls.reg.Init(ls.SourceID, id) }

// InitURIPrefix and InitURISuffix frame an init segment's id in its URI,
// relative to the live playlist: init-{id}.mp4.
const (
	InitURIPrefix = "init-"
	InitURISuffix = ".mp4"
)

// initURI is the EXT-X-MAP URI of init segment id, "" for none.
func initURI(id string) string {
	if id == "" {
		return ""
	}
	return InitURIPrefix + id + InitURISuffix
}

// segmentExt is the extension of a live segment's URI: .m4s for fMP4
// (init segment id), .ts for MPEG-TS.
func segmentExt(id string) string {
	if id != "" {
		return ".m4s"
	}
	return ".ts"
}
