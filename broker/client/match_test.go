package client

import "testing"

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		filter, topic string
		want          bool
	}{
		{"lmx/v1/edges/+/status", "lmx/v1/edges/gw-1/status", true},
		{"lmx/v1/edges/+/status", "lmx/v1/edges/gw-1/desired", false},
		{"lmx/v1/edges/+/status", "lmx/v1/edges/status", false},
		{"lmx/v1/#", "lmx/v1/events", true},
		{"lmx/v1/#", "lmx/v2/events", false},
		{"lmx/v1/events", "lmx/v1/events", true},
		{"lmx/v1/events", "lmx/v1/events/x", false},
	} {
		if got := Match(c.filter, c.topic); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}
