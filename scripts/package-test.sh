#!/usr/bin/env bash
# Builds the amd64 Debian packages, lmx and lmx-edge, from the nfpms section
# of .goreleaser.yaml with the pinned nfpm, inspects them
# (packaging/package_test.go: files, modes and owners, control fields,
# conffiles, scripts, systemd-analyze verify, the packaged configuration
# read by the packaged binaries), and keeps them in DIR (default
# dist/packages) for `sudo apt install ./DIR/lmx_*.deb`.
#
#   scripts/package-test.sh [DIR]
#
# The version is the latest v* tag when HEAD is one, else
# 0.0.0~dev.COMMIT (LMX_PACKAGE_VERSION=v1.2.3 to choose).
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-dist/packages}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

version="${LMX_PACKAGE_VERSION:-}"
if [ -z "$version" ]; then
  version="$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null || echo "v0.0.0-dev.$(git rev-parse --short HEAD 2>/dev/null || echo local)")"
fi

# The pinned nfpm, in GOPATH/bin (the test falls back to go run without it).
NFPM_VERSION=v2.45.2
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if ! go version -m "$gobin/nfpm" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/goreleaser/nfpm/v2[[:space:]]+$NFPM_VERSION[[:space:]]"; then
  echo "package-test: installing nfpm $NFPM_VERSION with go install" >&2
  go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
fi

rm -f "$out"/lmx_*.deb "$out"/lmx-edge_*.deb
LMX_PACKAGE_DIR="$out" LMX_PACKAGE_VERSION="$version" \
  go test -count=1 -v -run 'TestReleaseConfig|TestUnits|TestPackages' ./packaging/
ls -l "$out"/*.deb
