package recording

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

// Init is an fMP4 init segment, as the edge uploaded it.
type Init struct {
	// ID is broker.InitID(Data).
	ID string
	// Data is its bytes.
	Data []byte
}

// InitKey is the object key of source's init segment id: stored once per
// source and content, whatever the recordings and runs that share it.
func InitKey(sourceID, id string) string { return sourceID + "/init-" + id + ".mp4" }

// initIDOf is the id in an InitKey, "" for a key of another form.
func initIDOf(key string) string {
	id, ok := strings.CutPrefix(path.Base(key), "init-")
	if id, ok2 := strings.CutSuffix(id, ".mp4"); ok && ok2 && broker.ValidInitID(id) {
		return id
	}
	return ""
}

// isInitKey reports whether key names an init object.
func isInitKey(key string) bool { return initIDOf(key) != "" }

// InitURI is the URI of init object key in a recording's playlist,
// relative to it: init-{id}.mp4.
func InitURI(key string) string { return path.Base(key) }

// segmentExt is the extension of a recorded segment's object key (and of
// its URI): .m4s for an fMP4 segment, .ts for MPEG-TS.
func segmentExt(iseg *Init) string {
	if iseg != nil {
		return ".m4s"
	}
	return ".ts"
}

// recordInit spools an init object, unless it was spooled since this node
// started (the spool and the store keep it from then on: it is deleted only under
// initMu, by removeInit, which forgets it). The caller holds initMu, and
// keeps it until the segment that follows the init object is linked, so
// that removeInit never deletes an init object a segment is being linked
// to.
func (r *Recordings) recordInit(ctx context.Context, key string, data []byte, arrived time.Time) error {
	if r.inits[key] {
		return nil
	}
	if err := r.spool.put(ctx, key, data, arrived); err != nil {
		return err
	}
	r.inits[key] = true
	return nil
}

// removeInit deletes an init object that no stored segment follows any
// more, and reports whether it went. It asks the store again under
// initMu: a segment linked since the caller's list was made keeps it.
func (r *Recordings) removeInit(ctx context.Context, key string) bool {
	r.initMu.Lock()
	defer r.initMu.Unlock()
	used, err := r.store.InitKeyInUse(ctx, key)
	if err != nil {
		r.logger.Warn("could not tell whether an init object is still needed; kept", "key", key, "err", err)
		return false
	}
	if used {
		return false
	}
	delete(r.inits, key)
	if err := r.spool.remove(ctx, key); err != nil {
		r.logger.Warn("could not delete recorded object", "key", key, "err", err)
		return false
	}
	return true
}

// InitSegment returns init segment id of recording id, from the cache,
// else the spool or the store. Only an init segment one of the
// recording's segments follows is served.
func (r *Recordings) InitSegment(ctx context.Context, id, initID string) (*Body, error) {
	_, segs, err := r.segments(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.initIn(ctx, segs, initID)
}

// initIn returns init segment initID, which one of segs must follow.
func (r *Recordings) initIn(ctx context.Context, segs []sqlstore.RecordedSegment, initID string) (*Body, error) {
	key := ""
	for _, seg := range segs {
		if seg.InitKey != "" && initIDOf(seg.InitKey) == initID {
			key = seg.InitKey
			break
		}
	}
	if key == "" {
		return nil, fmt.Errorf("%w: recording has no init segment %s", ErrNotFound, initID)
	}
	b, err := r.object(ctx, key)
	if err == nil {
		b.FMP4 = true
	}
	return b, err
}
