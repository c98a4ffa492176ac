package humanfmt

import (
	"testing"

	"github.com/lmx-video/lmx/api"
)

func TestPullState(t *testing.T) {
	for _, c := range []struct {
		s    api.Source
		want string
	}{
		{api.Source{}, None},
		{api.Source{PullURL: "rtsp://cam/s"}, "pending"},
		{api.Source{PullURL: "rtsp://cam/s", Pull: &api.PullState{State: api.PullRunning, Restarts: 2}}, "running"},
		{api.Source{PullURL: "rtsp://cam/s", Pull: &api.PullState{State: api.PullBackoff, Restarts: 3}}, "backoff ×3"},
		{api.Source{PullURL: "rtsp://cam/s", Pull: &api.PullState{State: api.PullBackoff}}, "backoff"},
		{api.Source{PullURL: "rtsp://cam/s", Pull: &api.PullState{State: api.PullRefused}}, "refused"},
	} {
		if got := PullState(c.s); got != c.want {
			t.Errorf("PullState(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
	if got := PullCodecs(&api.PullState{Video: "h264", Audio: "aac"}); got != "h264/aac" {
		t.Errorf("codecs %q", got)
	}
	if got := PullCodecs(&api.PullState{Video: "h264"}); got != "h264" {
		t.Errorf("codecs %q", got)
	}
	if got := PullCodecs(nil); got != None {
		t.Errorf("codecs %q", got)
	}
}
