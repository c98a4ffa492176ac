package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"testing"
)

func TestVersion(t *testing.T) {
	wantOK(t, runCLI(t, nil, "version"), "lmx v1.2.3 (commit abc123def456, go1.26.8, linux/arm64)\n")
}

func TestVersionJSON(t *testing.T) {
	r := runCLI(t, nil, "version", "--json")
	var got BuildInfo
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	want := BuildInfo{Version: "v1.2.3", Commit: "abc123def456", GoVersion: "go1.26.8", OS: "linux", Arch: "arm64"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestVersionDefaults(t *testing.T) {
	// A BuildInfo left empty still prints something true.
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"version"}, &stdout, &stderr, BuildInfo{}, testEnv(t, nil))
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: code}
	want := "lmx dev (commit unknown, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	wantOK(t, r, want)
}
