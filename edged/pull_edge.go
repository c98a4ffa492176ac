package edged

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/lmx-video/lmx/broker"
)

// pullDirName is the directory under the state dir where pulls write
// their segments, one subdirectory per source.
const pullDirName = "pull"

// pullState is the edge's pulls: what runs, and what stopped while its
// source is still wanted (shown as stopped until the source goes).
type pullState struct {
	runner  pullRunner
	clock   pullClock
	running map[string]*puller
	gone    map[string]*puller
	// rootReady is set once the pull root exists and ingest reads from it.
	rootReady bool
}

// pullRoot is the directory pulled segments go to ("" without a state dir).
func (e *Edge) pullRoot() string {
	if e.cfg.StateDir == "" {
		return ""
	}
	return filepath.Join(e.cfg.StateDir, pullDirName)
}

// ensurePullRootLocked creates the pull root (0700) and lets ingest read
// segments inside it, and nowhere else beyond --allow-dir. The caller
// holds e.mu.
func (e *Edge) ensurePullRootLocked() error {
	if e.pulls.rootReady {
		return nil
	}
	root := e.pullRoot()
	if root == "" {
		return fmt.Errorf("no state dir: pulled segments are written under --state-dir")
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("pull directory: %w", err)
	}
	if err := e.allowed.add(root); err != nil {
		return fmt.Errorf("pull directory: %w", err)
	}
	e.pulls.rootReady = true
	return nil
}

// applyPullsLocked starts, restarts and stops pulls to match the desired
// state. A replaced pull's successor starts once the old ffmpeg is gone
// (they share a directory); nothing here waits. The caller holds e.mu.
func (e *Edge) applyPullsLocked() {
	ps := &e.pulls
	if ps.running == nil {
		ps.running, ps.gone = map[string]*puller{}, map[string]*puller{}
	}
	var after = map[string]<-chan struct{}{}
	for name, p := range ps.running {
		ds, ok := e.desired.Sources[name]
		if ok && ds.PullURL != "" && p.spec == normalSpec(ds) {
			continue
		}
		p.cancel()
		delete(ps.running, name)
		after[name] = p.done
		if ok && ds.PullURL == "" {
			ps.gone[name] = p
			p.logger.Info("pull stopped: the source's pull URL was cleared")
		} else if !ok {
			p.logger.Info("pull stopped: the source was removed")
		} else {
			p.logger.Info("pull restarting: its URL or segment length changed")
		}
	}
	for name := range ps.gone {
		if ds, ok := e.desired.Sources[name]; !ok || ds.PullURL != "" {
			delete(ps.gone, name)
		}
	}
	names := make([]string, 0, len(e.desired.Sources))
	for name := range e.desired.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ds := e.desired.Sources[name]
		if ds.PullURL == "" || ps.running[name] != nil || e.stopping || e.runCtx == nil {
			continue
		}
		if err := broker.ValidateName(name); err != nil {
			e.logger.Warn("pull ignored: bad source name in the desired state", "source", name, "err", err)
			continue
		}
		p := newPuller(name, normalSpec(ds), "", pushURL(e.Addr()), ps.runner, ps.clock, e.logger)
		if err := e.ensurePullRootLocked(); err != nil {
			p.st = broker.PullStatus{State: pullRefused, Since: p.st.Since, LastError: err.Error()}
			e.logger.Warn("pull refused", "source", name, "err", err)
			ps.gone[name] = p
			continue
		}
		p.dir = filepath.Join(e.pullRoot(), name)
		p.after = after[name]
		p.onChange = e.nudge
		p.onStart = func() { e.forgetPlaylist(name) }
		ctx, cancel := context.WithCancel(e.runCtx)
		p.cancel = cancel
		ps.running[name] = p
		delete(ps.gone, name)
		e.goLocked(func() { p.loop(ctx) })
	}
}

// normalSpec is a desired source's pull as a puller holds it.
func normalSpec(ds broker.DesiredSource) pullSpec {
	s := pullSpec{url: ds.PullURL, segLen: ds.SegmentLen}
	if s.segLen <= 0 {
		s.segLen = defaultPullSegmentLen
	}
	return s
}

// forgetPlaylist makes the next push of name count as a first one: a new
// ffmpeg run numbers its playlist afresh and may reuse the last run's
// segment names, and its first segment breaks continuity.
func (e *Edge) forgetPlaylist(name string) {
	src := e.source(name)
	src.pushMu.Lock()
	src.track = tracker{}
	src.pushMu.Unlock()
}

// pullOfLocked is the pull status of a source, nil for a pushed one. The
// caller holds e.mu.
func (e *Edge) pullOfLocked(name string) *broker.PullStatus {
	if p := e.pulls.running[name]; p != nil {
		return p.status()
	}
	if p := e.pulls.gone[name]; p != nil {
		return p.status()
	}
	return nil
}

// pullerForLocked is the running pull whose segments are in dir, if any.
// The caller holds e.mu.
func (e *Edge) pullerForLocked(name, dir string) *puller {
	if p := e.pulls.running[name]; p != nil && p.dir == dir {
		return p
	}
	return nil
}

// checkPullDir refuses a push that reads another source's pull
// directory: only the edge's own ffmpeg for that source writes there.
func (e *Edge) checkPullDir(target pushTarget) error {
	root := e.pullRoot()
	if root == "" {
		return nil
	}
	rel, err := filepath.Rel(root, target.Dir)
	if err != nil || rel == ".." || len(rel) > 2 && rel[:3] == ".."+string(filepath.Separator) {
		return nil
	}
	if rel != target.Source {
		return fmt.Errorf("%w: %s is the edge's own directory for pulled cameras; a push of %s cannot read from it", ErrOutsideAllowed, target.Dir, target.Source)
	}
	return nil
}
