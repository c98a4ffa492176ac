# lmx — common tasks. `make test` is the one CI runs.
GO      ?= go
PKGS    := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build test test-deps lint unit e2e fuzz bench demo package clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/lmx ./cmd/lmx
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/lmx-edge ./cmd/lmx-edge

## test: install missing test tools, then vet, format-check and run every test with -race.
test: test-deps lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-deps:
	@scripts/test-deps.sh

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -count=1 -short $(PKGS)

e2e: test-deps
	$(GO) test -count=1 -v -timeout 15m ./e2e/...

## fuzz: run each fuzz target for a while (FUZZTIME=30s by default).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./hls -run '^$$' -fuzz FuzzParseMediaPlaylist -fuzztime $(FUZZTIME)
	$(GO) test ./hls -run '^$$' -fuzz FuzzParseMultivariantPlaylist -fuzztime $(FUZZTIME)
	$(GO) test ./hls -run '^$$' -fuzz FuzzProbeTS -fuzztime $(FUZZTIME)
	$(GO) test ./edged -run '^$$' -fuzz FuzzParsePushHeaders -fuzztime $(FUZZTIME)
	$(GO) test ./internal/secret -run '^$$' -fuzz FuzzParseJoin -fuzztime $(FUZZTIME)
	$(GO) test ./controld/internal/grant -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

bench:
	bench/run.sh

## package: the amd64 .deb packages, built and inspected, in dist/packages.
package:
	scripts/package-test.sh

demo:
	$(GO) run ./cmd/lmx demo

clean:
	rm -rf bin
