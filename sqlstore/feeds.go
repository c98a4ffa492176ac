package sqlstore

import "strings"

// EdgeList is an ordered list of edge names kept as one comma-separated
// string, so that a Source stays comparable with ==.
type EdgeList string

// NewEdgeList joins names in order.
func NewEdgeList(names []string) EdgeList { return EdgeList(strings.Join(names, ",")) }

// Names splits the list (nil for an empty one).
func (l EdgeList) Names() []string {
	if l == "" {
		return nil
	}
	return strings.Split(string(l), ",")
}

// Feeds is every edge allowed to feed the source, the first feed (Edge)
// first, then the standby feeds in the operator's order; nil while the
// source has no edge.
func (s Source) Feeds() []string {
	if s.Edge == "" {
		return nil
	}
	return append([]string{s.Edge}, s.StandbyFeeds.Names()...)
}

// FedBy reports whether edge is one of the source's feeds.
func (s Source) FedBy(edge string) bool {
	for _, f := range s.Feeds() {
		if f == edge {
			return true
		}
	}
	return false
}

// SetFeeds makes feeds the source's feeds in order: the first becomes Edge,
// the rest StandbyFeeds. A preferred feed no longer among them is dropped.
func (s *Source) SetFeeds(feeds []string) {
	s.Edge, s.StandbyFeeds = "", ""
	if len(feeds) > 0 {
		s.Edge, s.StandbyFeeds = feeds[0], NewEdgeList(feeds[1:])
	}
	if s.Prefer != "" && !s.FedBy(s.Prefer) {
		s.Prefer = ""
	}
}
