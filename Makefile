# hardbake: `make demo` runs the main job end to end, `make test` runs every test.
# Both install what they need (scripts/deps.sh uses apt-get; Go modules come
# from the module proxy). Caches live under ~/.cache/hardbake.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# commit and build date are stamped too (hardbake version); the build date is
# the commit's, so the same commit builds the same bytes.
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)
GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'
TEST_TIMEOUT ?= 40m

PLUGIN_VERSION ?= 0.1.0

.PHONY: all build release deps test unit lint bench demo fuzz clean generate check-generated e2e lynis cis

all: build

build:
	@mkdir -p bin
	$(GOBUILD) -o bin/hardbake ./cmd/hardbake
	GOARCH=arm64 $(GOBUILD) -o bin/hardbake-linux-arm64 ./cmd/hardbake
	@cp bin/hardbake bin/hardbake-linux-amd64
	@ldd bin/hardbake 2>&1 | grep -q 'not a dynamic' || { echo "bin/hardbake is not static"; exit 1; }
	# The plugin embeds both static binaries (go:embed provisioner/hardbake/bin).
	cp bin/hardbake-linux-amd64 bin/hardbake-linux-arm64 provisioner/hardbake/bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w -X main.Version=$(PLUGIN_VERSION)' -o bin/packer-plugin-hardbake ./cmd/packer-plugin-hardbake

# A release in $(DIST)/: Packer plugin zips in the layout `packer init`
# downloads (PLUGIN_PLATFORMS) with their SHA256SUMS, static hardbake tarballs,
# and .deb/.rpm/.apk/Arch packages (PKG_FORMATS x PKG_ARCHS, built by nfpm
# from packaging/nfpm.yaml) with theirs. VERSION=vX.Y.Z, else the tag
# (git describe --tags). packaging/release.sh says how; packaging's tests
# check the result (dpkg, lintian, rpm, bsdtar, packer-sdc, packer).
DIST ?= dist
release:
	VERSION=$(if $(filter command line environment,$(origin VERSION)),$(VERSION)) DIST=$(DIST) GO=$(GO) \
	  $(if $(PLUGIN_PLATFORMS),PLUGIN_PLATFORMS='$(PLUGIN_PLATFORMS)') $(if $(PKG_ARCHS),PKG_ARCHS='$(PKG_ARCHS)') \
	  $(if $(PKG_FORMATS),PKG_FORMATS='$(PKG_FORMATS)') $(if $(filter command line environment,$(origin BUILD_DATE)),BUILD_DATE=$(BUILD_DATE)) \
	  bash packaging/release.sh

# Generated code and docs: the HCL2 spec of the provisioner's Config and the
# docs partials from its field comments. packer-sdc struct-markdown finds the
# project by a directory named packer-plugin-*, and loops forever without one,
# so it runs through such a symlink.
generate:
	cd provisioner/hardbake && $(GO) generate ./...
	@tmp=$$(mktemp -d) && ln -s $(CURDIR) $$tmp/packer-plugin-hardbake && \
	  cd $$tmp/packer-plugin-hardbake/provisioner/hardbake && PWD=$$tmp/packer-plugin-hardbake/provisioner/hardbake \
	  timeout 120 $(GO) tool packer-sdc struct-markdown config.go; rc=$$?; rm -rf $$tmp; exit $$rc

# Fails when generated files are stale.
check-generated: generate
	@git diff --exit-code -- provisioner/hardbake/config.hcl2spec.go docs-partials || { echo "generated files are stale: run make generate and commit"; exit 1; }

deps:
	@bash scripts/deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^\.' ) 2>&1); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Everything: unit tests, fuzz seed corpora, and the real-component tests
# (mmdebstrap roots entered with chroot, real sshd -t/-T).
test: deps lint check-generated build
	PACKER_ACC=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	@$(MAKE) --no-print-directory e2e

# The end-to-end suite (e2e/): one real `packer build` of the golden image,
# then the sealed image booted fresh in QEMU and attacked from outside.
# HARDBAKE_E2E_SUITES="bookworm trixie" adds Debian 13. Last line:
# `e2e: N passed, M failed` (the full log stays in $(E2E_LOG)).
E2E_TIMEOUT ?= 40m
E2E_LOG ?= /tmp/hardbake-e2e.log
e2e: deps build
	@HARDBAKE_E2E=1 $(GO) test -count=1 -v -timeout $(E2E_TIMEOUT) ./e2e/ 2>&1 | tee $(E2E_LOG); \
	  rc=$${PIPESTATUS[0]}; grep '^e2e: ' $(E2E_LOG) | tail -n 1; exit $$rc

# Lynis's hardening index before (the unhardened base image) and after (the
# sealed golden image), both booted under TCG with Debian's lynis installed
# from the mirror: the e2e suite with HARDBAKE_E2E_LYNIS=1. Not part of
# `make test` (each Lynis audit takes minutes under TCG, and "before" needs
# a third boot). Prints the indexes; the full log stays in $(LYNIS_LOG).
LYNIS_TIMEOUT ?= 90m
LYNIS_LOG ?= /tmp/hardbake-lynis.log
lynis: deps build
	@HARDBAKE_E2E=1 HARDBAKE_E2E_LYNIS=1 $(GO) test -count=1 -v -timeout $(LYNIS_TIMEOUT) ./e2e/ 2>&1 | tee $(LYNIS_LOG); \
	  rc=$${PIPESTATUS[0]}; grep -o 'number: \(Lynis\|ssh-audit\) .*' $(LYNIS_LOG) | sed 's/^number: //'; \
	  grep '^e2e: ' $(LYNIS_LOG) | tail -n 1; exit $$rc

# The compliance score: OpenSCAP (oscap-chroot) with the SCAP Security
# Guide's CIS Level 1 and Level 2 Server profiles (ssg-debian 0.1.82) on the
# cached Debian 12 and 13 roots, before and after the default bake. Fails
# when a Level 1 rule fails that no step documents as a deviation. The same
# test runs in `make test`. Prints the counts; the full log stays in $(CIS_LOG).
CIS_LOG ?= /tmp/hardbake-cis.log
cis: deps
	@$(GO) test -count=1 -v -timeout 60m -run '^TestCIS$$' ./cmd/hardbake/ 2>&1 | tee $(CIS_LOG) >/dev/null; \
	  rc=$${PIPESTATUS[0]}; grep -E 'number: CIS|deviation: |offline only: |cis_integration_test.go|^ {8}[a-z0-9_-]+$$|^(ok|FAIL|--- FAIL)' $(CIS_LOG); exit $$rc

unit:
	$(GO) test -short ./...

# Every package's Go benchmarks, and e2e's BenchmarkBootToSudo: power-on to
# alice's first `ssh ... sudo -n true`, the base image with a cloud-init seed
# against the golden image with a hardbake seed, alternating,
# HARDBAKE_BENCH_BOOTS (default 3) boots each under TCG. Its golden image is
# the one `make e2e` filed in the cache for this bin/, or a packer build.
# -p 1: one package at a time, so no other benchmark shares the CPUs with the
# VMs. Prints the numbers; the full log stays in $(BENCH_LOG).
BENCH_TIMEOUT ?= 90m
BENCH_LOG ?= /tmp/hardbake-bench.log
bench: deps build
	@HARDBAKE_E2E=1 $(GO) test -p 1 -run '^$$' -bench . -benchmem -timeout $(BENCH_TIMEOUT) ./... 2>&1 | tee $(BENCH_LOG); \
	  rc=$${PIPESTATUS[0]}; grep -o 'number: .*' $(BENCH_LOG) | sed 's/^number: //'; exit $$rc

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./bootstrap/sshdconfig/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./bootstrap/profile/

demo: deps build
	bash scripts/demo.sh

clean:
	rm -rf bin
