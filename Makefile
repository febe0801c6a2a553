# ktriage — build, lint and test the kubectl plugins.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
GO ?= go
CACHE ?= $(HOME)/.cache/ktriage
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/ktriage/ktriage/pkg/version.Version=$(VERSION)
PKGS := ./pkg/... ./plugins/... ./cmd/... ./internal/...
PKGS += ./hack/release/... ./test/bench/e2e/...
GORELEASER = $$(hack/build-tools.sh --print-dir goreleaser | awk '{print $$2}')/goreleaser
VALIDATE_KREW = $$(hack/build-tools.sh --print-dir validate-krew-manifest | awk '{print $$2}')/validate-krew-manifest

.PHONY: all build tools lint staticcheck unit fuzz e2e test bench bench-e2e demo clean cluster-up cluster-down

all: build

## build: the plugin binaries into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

## tools: control plane, etcd, kwok and linters from pinned modules (cached in $(CACHE))
tools:
	hack/build-tools.sh

## lint: gofmt, go vet, no pkg/ package depending on the CLI layer, internal/golden only in tests
lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	@bad=$$($(GO) list -f '{{.ImportPath}}:{{range .Deps}} {{.}}{{end}}' ./pkg/... | grep -v '^github.com/ktriage/ktriage/pkg/cli:' | grep -E ' github.com/ktriage/ktriage/(pkg/cli|plugins/[^ ]*)( |$$)' | cut -d: -f1); \
	bad="$$bad$$($(GO) list -f '{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}' ./pkg/... | grep -v '^github.com/ktriage/ktriage/pkg/cli:' | grep -E ' github.com/spf13/cobra( |$$)' | cut -d: -f1)"; \
	if [ -n "$$bad" ]; then echo "pkg/ must not depend on pkg/cli or plugins/, nor import cobra (data flows flags -> Snapshot -> analysis -> printer):"; echo "$$bad"; exit 1; fi
	@bad=$$($(GO) list -f '{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}' ./... | grep -E ' github.com/ktriage/ktriage/internal/golden( |$$)' | cut -d: -f1); \
	if [ -n "$$bad" ]; then echo "internal/golden is for tests only (it registers the -update flag):"; echo "$$bad"; exit 1; fi

## staticcheck: staticcheck on every package (minutes on a cold cache: part of test, not of lint)
staticcheck:
	hack/build-tools.sh staticcheck
	$$(hack/build-tools.sh --print-dir staticcheck | awk '{print $$2}')/staticcheck ./...

## unit: library and plugin unit tests (race detector on)
unit:
	$(GO) test -json -race -count=1 $(PKGS) | $(GO) run ./hack/testsummary

## fuzz: every fuzz target (each `func FuzzX` in pkg/ and plugins/) explores for $(FUZZTIME): the
## manifest loader, the certificate and kubeconfig readers, the NetworkPolicy evaluator, target
## parsing. go test -fuzz takes one package and one target at a time; a failure is saved under the
## package's testdata/fuzz, and unit replays every saved input from then on. make test explores
## for a few seconds per target; run make fuzz FUZZTIME=5m before a release and commit what it
## saves along with the fix.
FUZZTIME ?= 5s
fuzz:
	@set -e; targets=$$(git grep -n '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' -- 'pkg/*_test.go' 'plugins/*_test.go' \
		| sed -E 's#^(.*)/[^/]*_test\.go:[0-9]+:func (Fuzz[A-Za-z0-9_]*).*#./\1:\2#' | sort -u); \
	[ -n "$$targets" ] || { echo "fuzz: no fuzz targets found"; exit 1; }; \
	for t in $$targets; do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz: $$pkg $$fn for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1 | grep -v '^fuzz: elapsed' ; \
	done

## e2e: the real binaries against a real local control plane
e2e: build
	hack/build-tools.sh
	KTRIAGE_BIN=$(CURDIR)/bin $(GO) test -json -count=1 -timeout 60m -p 1 ./test/e2e/... | $(GO) run ./hack/testsummary

## test: everything CI runs
test: lint staticcheck unit fuzz e2e
test: krew-validate

.PHONY: release-snapshot krew-manifests krew-validate rules-doc goldens

## release-snapshot: every plugin for linux/darwin/windows x amd64/arm64, archives and checksums into dist/ (offline; no image, no publishing)
release-snapshot:
	hack/build-tools.sh goreleaser
	$(GORELEASER) release --snapshot --clean --skip=publish
	$(GO) run ./hack/release/krew-manifests -dist dist -out dist/krew-manifests

## krew-manifests: krew-manifests/*.yaml from the release in dist/
krew-manifests:
	$(GO) run ./hack/release/krew-manifests -dist dist -out krew-manifests

## krew-validate: krew-manifests/*.yaml through krew's validate-krew-manifest (test/e2e/release installs a fresh snapshot with krew)
krew-validate:
	hack/build-tools.sh validate-krew-manifest
	@for f in krew-manifests/*.yaml; do out=$$($(VALIDATE_KREW) -manifest "$$f" -skip-install 2>&1) || { echo "$$out"; exit 1; }; echo "$$f: valid"; done

## rules-doc: regenerate docs/rules.md from the rules the plugins register
rules-doc:
	$(GO) test ./pkg/report/rulesdoc -run TestRulesDocIsFresh -count=1 -update

## goldens: rewrite every golden file (and docs/rules.md) from the current output; review the diff.
## The packages are those whose tests import internal/golden, the one owner of the -update flag.
GOLDEN_PKGS = $$($(GO) list -f '{{.ImportPath}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' ./... | grep -E ' github.com/ktriage/ktriage/internal/golden( |$$)' | cut -d' ' -f1)
goldens:
	$(GO) test -count=1 $(GOLDEN_PKGS) -update

## bench: speed and memory benchmarks: the in-process ones, then a small bench-e2e (two small
## clusters, one run each, report in bin/bench-e2e/) whose targets are printed at the end
bench: build
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS) ./test/bench/...
	$(GO) run ./test/bench/e2e -bin bin -name bench-e2e-small -sizes 100,300 -runs 1 -profile none \
		-report bin/bench-e2e/benchmarks.md -chart bin/bench-e2e/benchmarks.svg
	@sed -n '/^## Targets/,/^## [0-9]/p' bin/bench-e2e/benchmarks.md | sed '$$d'

## bench-e2e: every plugin as a whole process against a real kube-apiserver filled to 500, 1,000
## and 2,000 nodes (15 pods per node, 50 Pending), next to the floor (the LISTs it needs, nothing
## else) and kubectl get -o json; 3 interleaved runs; writes docs/benchmarks.md, docs/benchmarks.svg
## and profiles of missed targets (docs/benchmarks/profiles). About 25 minutes on 2 cores; not
## part of make test. BENCH_E2E_FLAGS=-large: 5,000 nodes / 150,000 pods; see test/bench/README.md.
BENCH_E2E_FLAGS ?=
bench-e2e: build
	$(GO) run ./test/bench/e2e -bin bin $(BENCH_E2E_FLAGS)

## demo: a local cluster with broken workloads, and every plugin run against it
demo: build
	hack/demo.sh

cluster-up:
	hack/local-cluster up
cluster-down:
	hack/local-cluster down

clean:
	rm -rf bin dist
