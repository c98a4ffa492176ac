package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The MinIO the recording tests store into: a real server, the version
// scripts/test-deps.sh installs, on a free loopback port with a temp dir.
const (
	minioVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"
	minioUser    = "lmxtest"
	minioPass    = "lmxtest-secret"
)

var (
	minioOnce sync.Once
	minioPath string
	minioWhy  string
)

// minioBinary finds the minio server binary: on PATH, else where
// `go install` puts it. Without one the test fails, saying how to get it.
func minioBinary(t *testing.T) string {
	t.Helper()
	minioOnce.Do(func() {
		if p, err := exec.LookPath("minio"); err == nil {
			minioPath = p
			return
		}
		out, err := exec.Command("go", "env", "-json", "GOBIN", "GOPATH").Output()
		var env struct{ GOBIN, GOPATH string }
		if err == nil {
			err = json.Unmarshal(out, &env)
		}
		if err != nil {
			minioWhy = "minio is not on PATH and `go env` failed: " + err.Error()
			return
		}
		var dirs []string
		if env.GOBIN != "" {
			dirs = append(dirs, env.GOBIN)
		}
		for _, gp := range filepath.SplitList(env.GOPATH) {
			dirs = append(dirs, filepath.Join(gp, "bin"))
		}
		for _, d := range dirs {
			p := filepath.Join(d, "minio")
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				minioPath = p
				return
			}
		}
		minioWhy = "minio not found on PATH nor in " + strings.Join(dirs, ", ")
	})
	if minioPath == "" {
		t.Fatalf("%s: run `make test-deps` (it installs github.com/minio/minio@%s with go install)", minioWhy, minioVersion)
	}
	return minioPath
}

// minioServer is a MinIO server process the test can stop and start again
// on the same port and data dir.
type minioServer struct {
	t           *testing.T
	bin, dir    string
	port        int
	consolePort int
	proc        *proc
	starts      int
}

// startMinIO starts a MinIO server on a free loopback port with a fresh
// data dir and waits until it is ready.
func startMinIO(t *testing.T) *minioServer {
	t.Helper()
	m := &minioServer{t: t, bin: minioBinary(t), dir: t.TempDir(), port: freePort(t), consolePort: freePort(t)}
	m.start()
	return m
}

// endpoint is host:port, as minio-go and lmx's s3:// URL want it.
func (m *minioServer) endpoint() string { return loopback(m.port) }

// env is what lmx controld needs to reach it.
func (m *minioServer) env() []string {
	return []string{"LMX_S3_ACCESS_KEY=" + minioUser, "LMX_S3_SECRET_KEY=" + minioPass}
}

// start (re)starts the server and waits until it answers ready.
func (m *minioServer) start() {
	t := m.t
	t.Helper()
	m.starts++
	name := "minio"
	if m.starts > 1 {
		name = fmt.Sprintf("minio#%d", m.starts)
	}
	m.proc = startProcEnv(t, name, false,
		[]string{"MINIO_ROOT_USER=" + minioUser, "MINIO_ROOT_PASSWORD=" + minioPass, "MINIO_BROWSER=off",
			"MINIO_UPDATE=off", "MINIO_CI_CD=1"},
		m.bin, "server", "--quiet", "--address", m.endpoint(), "--console-address", loopback(m.consolePort), m.dir)
	ready := "http://" + m.endpoint() + "/minio/health/ready"
	eventually(t, 30*time.Second, 100*time.Millisecond, name+" ready", func() (bool, string) {
		if m.proc.Exited() {
			t.Fatalf("%s exited while starting (status %d):\n%s", name, m.proc.ExitCode(), m.proc.Output())
		}
		r, err := get(ready)
		if err != nil {
			return false, err.Error()
		}
		return r.Status == http.StatusOK, r.String()
	})
}

// stop stops the server (SIGINT) and checks that it no longer answers.
func (m *minioServer) stop() {
	t := m.t
	t.Helper()
	m.proc.Stop()
	if _, err := get("http://" + m.endpoint() + "/minio/health/live"); err == nil {
		t.Fatalf("minio still answers on %s after it was stopped", m.endpoint())
	}
}

// client is a minio-go client for the server, as the test's own eyes on
// the bucket.
func (m *minioServer) client(t *testing.T) *minio.Client {
	t.Helper()
	c, err := minio.New(m.endpoint(), &minio.Options{Creds: credentials.NewStaticV4(minioUser, minioPass, ""), Secure: false})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	return c
}

// listObjects returns the objects under prefix in bucket, key → size.
func (m *minioServer) listObjects(t *testing.T, bucket, prefix string) (map[string]int64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]int64{}
	for obj := range m.client(t).ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		out[obj.Key] = obj.Size
	}
	return out, nil
}

// getObject reads one object.
func (m *minioServer) getObject(t *testing.T, bucket, key string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj, err := m.client(t).GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj)
}
