package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified},
		}}
	}
	for name, tt := range map[string]struct {
		version, commit string
		bi              *debug.BuildInfo
		want            Info
	}{
		"ldflags win": {"v1.2.3", "abc1234", vcs("0123456789abcdef0123", "true"),
			Info{"v1.2.3", "abc1234", "go1.26.8", runtime.GOOS, runtime.GOARCH}},
		"checkout build": {"dev", "", vcs("0123456789abcdef0123", "false"),
			Info{"dev", "0123456789ab", "go1.26.8", runtime.GOOS, runtime.GOARCH}},
		"dirty checkout": {"dev", "", vcs("0123456789abcdef0123", "true"),
			Info{"dev", "0123456789ab-dirty", "go1.26.8", runtime.GOOS, runtime.GOARCH}},
		"go install @version": {"dev", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			Info{"v1.4.0", "unknown", "go1.26.8", runtime.GOOS, runtime.GOARCH}},
		"no build information": {"", "", nil,
			Info{"dev", "unknown", runtime.Version(), runtime.GOOS, runtime.GOARCH}},
	} {
		if got := fromBuild(tt.version, tt.commit, tt.bi); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", name, got, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	if got, want := (Info{Version: "v1.2.3", Commit: "abc", GoVersion: "go1.26.8", OS: "linux", Arch: "arm64"}).String(), "v1.2.3 (commit abc, go1.26.8, linux/arm64)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	want := "dev (commit unknown, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got := (Info{}).String(); got != want {
		t.Errorf("zero Info: got %q, want %q", got, want)
	}
}

func TestRead(t *testing.T) {
	// A test binary has build information but no VCS stamp.
	if got := Read("v9", "c0ffee"); got.Version != "v9" || got.Commit != "c0ffee" || got.GoVersion == "" {
		t.Errorf("Read = %+v", got)
	}
}
