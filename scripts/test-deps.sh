#!/usr/bin/env bash
# Installs what the tests need when it is missing: ffmpeg, ffprobe and tmux
# from Debian's packages, and MinIO. Safe to run again: it only installs what is absent.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v tmux >/dev/null 2>&1 || need+=(tmux)       # the dashboard's end-to-end test

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "test-deps: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "test-deps: installing ${need[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
ffmpeg -version | head -n 1

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
