#!/usr/bin/env bash
# Installs what the tests need when it is missing: ffmpeg, ffprobe, tmux,
# chromium, npm, mosquitto, mosquitto-clients and GStreamer's RTSP server
# from Debian's packages, hls.js with npm, MinIO, and nfpm with
# systemd-analyze for the package tests. Safe to run again: it only installs
# what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v tmux >/dev/null 2>&1 || need+=(tmux)       # the dashboard's end-to-end test
command -v chromium >/dev/null 2>&1 || need+=(chromium) # browser playback (e2e/browser_test.go)
command -v npm >/dev/null 2>&1 || need+=(npm)           # fetches hls.js for it
# The external-broker tests (e2e/mosquitto_test.go). Debian puts the broker in
# /usr/sbin, which is not on every user's PATH.
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_passwd >/dev/null 2>&1 || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
# GStreamer's RTSP server, driven from the system's python3, serves the
# camera in the pull tests (e2e/pull_test.go, e2e/testdata/rtsp_server.py):
# x264enc is in -ugly, x265enc in -bad, avenc_aac in -libav.
if command -v dpkg >/dev/null 2>&1; then
  for pkg in python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-libav; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
fi
# The package tests (packaging/): dpkg-deb inspects the .deb files,
# systemd-analyze verifies their units.
command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "test-deps: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "test-deps: installing ${need[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The tests run Mosquitto themselves, on free ports. The package's own
  # service, which it has just enabled and started, would hold port 1883,
  # lmx's MQTT port: stop it.
  if [[ " ${need[*]} " == *" mosquitto "* ]] && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
  fi
fi
ffmpeg -version | head -n 1
# Run as root (as CI does), Chromium needs --no-sandbox; the tests pass it.
chromium --version 2>/dev/null || echo "chromium: $(command -v chromium)"
echo "mosquitto: $(command -v mosquitto || echo /usr/sbin/mosquitto)"

# hls.js for the browser tests, at the version package-lock.json pins, in
# e2e/testdata/browser/node_modules (not committed). npm ci only when the
# installed version is not the pinned one.
browser=e2e/testdata/browser
want="$(node -p "require('./$browser/package-lock.json').packages['node_modules/hls.js'].version")"
have="$(node -p "try { require('./$browser/node_modules/hls.js/package.json').version } catch (e) { '' }")"
if [ "$have" != "$want" ] || [ ! -f "$browser/node_modules/hls.js/dist/hls.min.js" ]; then
  echo "test-deps: installing hls.js $want with npm ci into $browser/node_modules" >&2
  (cd "$browser" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "hls.js: $want"

# MinIO, for the recording tests against a real S3 server: a pinned version,
# built from source with the Go toolchain (a few minutes the first time, then
# cached in GOPATH/bin).
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if ! command -v minio >/dev/null 2>&1 && [ ! -x "$gobin/minio" ]; then
  echo "test-deps: building MinIO $MINIO_VERSION with go install (a few minutes, once)" >&2
  GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION"
fi
echo "minio: $(command -v minio || echo "$gobin/minio")"

# nfpm, pinned, for the package tests: they build the .deb files with it
# (and fall back to go run, slower, without it).
NFPM_VERSION=v2.45.2
if ! go version -m "$gobin/nfpm" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/goreleaser/nfpm/v2[[:space:]]+$NFPM_VERSION[[:space:]]"; then
  echo "test-deps: installing nfpm $NFPM_VERSION with go install" >&2
  go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
fi
echo "nfpm: $gobin/nfpm"
