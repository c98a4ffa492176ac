package broker

import (
	"errors"
	"testing"
	"time"
)

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"camera-0", "cam_1.hd", "A", "x123456789012345678901234567890123456789012345678901234567890123"[:64]} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".hidden", "a/b", "a+b", "a b", "ä", string(make([]byte, 65))} {
		if err := ValidateName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("ValidateName(%q) = %v; want ErrBadName", bad, err)
		}
	}
}

func TestEdgeTopics(t *testing.T) {
	for _, c := range []struct{ topic, edge, kind string }{
		{EdgeStatusTopic("gw-1"), "gw-1", "status"},
		{EdgeDesiredTopic("gw-1"), "gw-1", "desired"},
		{EdgeCmdTopic("gw-1"), "gw-1", "cmd"},
		{EdgeCmdReplyTopic("gw-1"), "gw-1", "cmd/reply"},
	} {
		edge, kind, err := ParseEdgeTopic(c.topic)
		if err != nil || edge != c.edge || kind != c.kind {
			t.Errorf("ParseEdgeTopic(%q) = %q, %q, %v", c.topic, edge, kind, err)
		}
	}
	for _, bad := range []string{"lmx/v1/events", "lmx/v1/edges/gw-1", "lmx/v1/edges/gw-1/other", "lmx/v1/edges/+/status", "other/edges/x/status"} {
		if _, _, err := ParseEdgeTopic(bad); !errors.Is(err, ErrBadTopic) {
			t.Errorf("ParseEdgeTopic(%q) = %v; want ErrBadTopic", bad, err)
		}
	}
	if EdgeStatusTopic("gw-1") != "lmx/v1/edges/gw-1/status" || EventsTopic != "lmx/v1/events" {
		t.Error("topic layout changed: it is a contract")
	}
}

func TestPayloadRoundTripAndVersion(t *testing.T) {
	in := Desired{V: Version, Edge: "gw-1", Generation: 7, Sources: map[string]DesiredSource{
		"cam": {Stream: true, Recordings: []DesiredRecording{{ID: "r1", Since: time.Unix(100, 0).UTC()}}},
	}}
	var out Desired
	if err := Decode(Encode(in), &out); err != nil || !out.Sources["cam"].Stream || out.Sources["cam"].Recordings[0].ID != "r1" {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	if err := Decode([]byte(`{"v":2,"edge":"gw-1"}`), &out); !errors.Is(err, ErrBadVersion) {
		t.Fatalf("version 2 accepted: %v", err)
	}
	if err := Decode([]byte(`{`), &out); err == nil {
		t.Fatal("bad JSON accepted")
	}
	var st EdgeStatus
	if err := Decode(Encode(EdgeStatus{V: Version, Edge: "e", HeartbeatEvery: Duration(5 * time.Second)}), &st); err != nil || time.Duration(st.HeartbeatEvery) != 5*time.Second {
		t.Fatalf("duration round trip: %v %v", st.HeartbeatEvery, err)
	}
}
