// Package broker is the MQTT contract between lmx edges and the control node:
// topic names, payloads and the QoS/retain rules that go with them. It uses the
// standard library only, so the smallest edge binary can import it.
package broker

import (
	"errors"
	"fmt"
	"strings"
)

// Topic layout (contract: operators' scripts and the TUI rely on it).
const (
	// Prefix is the root of every lmx topic.
	Prefix = "lmx/v1"
	// EventsTopic carries what happened, for dashboards and scripts.
	EventsTopic = Prefix + "/events"
	// EdgeStatusFilter matches every edge's retained status.
	EdgeStatusFilter = Prefix + "/edges/+/status"
	// EdgeCmdReplyFilter matches replies to commands sent to edges.
	EdgeCmdReplyFilter = Prefix + "/edges/+/cmd/reply"
)

// QoS and retain rules per topic.
const (
	// StatusQoS is used for edge status and its Last Will (retained).
	StatusQoS byte = 1
	// DesiredQoS is used for the desired state written by the control node (retained).
	DesiredQoS byte = 1
	// EventQoS is used for events (not retained).
	EventQoS byte = 0
	// CmdQoS is used for request/response commands (not retained).
	CmdQoS byte = 1
)

// Sentinel errors.
var (
	// ErrBadTopic is returned when a topic is not an lmx edge topic.
	ErrBadTopic = errors.New("not an lmx edge topic")
	// ErrBadName is returned for an edge or source name that cannot appear in a topic.
	ErrBadName = errors.New("invalid name")
	// ErrBadVersion is returned for a payload whose version this build does not understand.
	ErrBadVersion = errors.New("unsupported payload version")
)

// ValidateName reports whether s can name an edge or a source: 1–64 characters
// of letters, digits, '-', '_' and '.', not starting with '.'. Such names are
// safe in MQTT topics, URLs and file names.
func ValidateName(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%w %q: must be 1-64 characters", ErrBadName, s)
	}
	if s[0] == '.' {
		return fmt.Errorf("%w %q: must not start with '.'", ErrBadName, s)
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return fmt.Errorf("%w %q: only letters, digits, '-', '_' and '.' are allowed", ErrBadName, s)
		}
	}
	return nil
}

// EdgeStatusTopic is the retained presence and health topic of an edge.
func EdgeStatusTopic(edge string) string { return Prefix + "/edges/" + edge + "/status" }

// EdgeDesiredTopic is the retained desired-state topic the control node writes for an edge.
func EdgeDesiredTopic(edge string) string { return Prefix + "/edges/" + edge + "/desired" }

// EdgeCmdTopic is the topic an edge listens on for commands that need an answer now.
func EdgeCmdTopic(edge string) string { return Prefix + "/edges/" + edge + "/cmd" }

// EdgeCmdReplyTopic is where an edge's command replies go (the MQTT 5 Response Topic).
func EdgeCmdReplyTopic(edge string) string { return Prefix + "/edges/" + edge + "/cmd/reply" }

// ParseEdgeTopic splits lmx/v1/edges/{edge}/{kind...} into the edge name and
// the kind ("status", "desired", "cmd", "cmd/reply").
func ParseEdgeTopic(topic string) (edge, kind string, err error) {
	rest, ok := strings.CutPrefix(topic, Prefix+"/edges/")
	if !ok {
		return "", "", fmt.Errorf("%w: %q", ErrBadTopic, topic)
	}
	edge, kind, ok = strings.Cut(rest, "/")
	if !ok || kind == "" {
		return "", "", fmt.Errorf("%w: %q", ErrBadTopic, topic)
	}
	if err := ValidateName(edge); err != nil {
		return "", "", fmt.Errorf("%w: %q: %v", ErrBadTopic, topic, err)
	}
	switch kind {
	case "status", "desired", "cmd", "cmd/reply":
		return edge, kind, nil
	}
	return "", "", fmt.Errorf("%w: %q", ErrBadTopic, topic)
}
