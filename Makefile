# Barrage — `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/barrage-dev/barrage/internal/version.Version=$(VERSION)
DEMO_TARGET := 127.0.0.1:18080

.PHONY: help build demo deps test test-short lint vet fmt-check proto proto-check fuzz bench tools clean

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/barrage (static)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/barrage ./cmd/barrage

demo: build ## run scenarios/examples/demo.yaml locally against the bundled test target
	@$(BIN)/barrage target --listen $(DEMO_TARGET) --log-level warn & pid=$$!; \
	trap 'kill $$pid 2>/dev/null || true' EXIT; \
	for i in $$(seq 100); do (exec 3<>/dev/tcp/$(subst :,/,$(DEMO_TARGET))) 2>/dev/null && break; sleep 0.05; done; \
	$(BIN)/barrage run scenarios/examples/demo.yaml --json $(BIN)/demo-report.json --html $(BIN)/demo-report.html; \
	echo "JSON report: $(BIN)/demo-report.json · HTML report (open it in a browser): $(BIN)/demo-report.html"

# Debian packages the tests drive for real: curl and nc run findings'
# reproducers, openssl makes test certificates, chromium renders the HTML
# report and the live web view in the browser tests.
DEPS := curl:curl nc:netcat-openbsd openssl:openssl chromium:chromium

deps: ## install the Debian packages the tests need (when missing; apt-get, as root)
	@need=(); for d in $(DEPS); do command -v $${d%%:*} >/dev/null || need+=($${d#*:}); done; \
	if (( $${#need[@]} )); then \
	  if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	    echo "the tests need: $${need[*]} (install them, e.g. sudo apt-get install $${need[*]})"; exit 1; fi; \
	  echo "installing $${need[*]}"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${need[@]}" >/dev/null; \
	fi

test: deps lint proto-check ## everything CI runs: lint, stale-proto check, all tests with -race
	BARRAGE_ARTIFACTS=$(CURDIR)/$(BIN)/artifacts $(GO) test -race -timeout 25m ./...
	@echo "browser screenshots: $(BIN)/artifacts/"

test-short: ## unit tests only (no load, no processes)
	$(GO) test -race -short ./...

lint: fmt-check vet ## gofmt and go vet

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$') 2>&1); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

tools: $(BIN)/buf $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc ## build the pinned code generators (tools/go.mod)

$(BIN)/buf $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../$(BIN)/ github.com/bufbuild/buf/cmd/buf google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc

proto: tools ## regenerate the committed gRPC/protobuf code
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/buf lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/buf generate

proto-check: tools ## fail if the committed generated code is stale
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/buf lint; \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/buf generate -o $$tmp; \
	if ! diff -r $$tmp/proto proto -x '*.proto' >/dev/null; then \
	  echo "generated code in proto/ is stale: run 'make proto' and commit"; diff -r $$tmp/proto proto -x '*.proto' | head -20; exit 1; fi; \
	echo "proto: generated code is up to date"

fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-20s} $$pkg; \
	  done; done

bench: build ## side-by-side benchmark against wrk, vegeta, hey, fortio (see bench/)
	bench/run.sh

clean: ## remove build output
	rm -rf $(BIN)
