# The one test command is `make test` (README.md): it installs what the tests
# need on a fresh Debian machine, then runs every tier. No tier can be skipped:
# a component that cannot start fails the run.
SHELL := /bin/bash
GO ?= go

# Debian packages the tests start for real.
DEB_PACKAGES := git etcd-server etcd-client docker.io docker-registry openssh-server \
	gitolite3 shellcheck hyperfine iproute2 util-linux procps dbus polkitd nginx

.PHONY: test deps vet unit-tests

test: deps vet
	@if [ -n "$${NAP_SKIP_SANDBOX:-}$${NAP_SKIP:-}" ] || \
	   case " $${GOFLAGS:-} " in *" -short"*|*" -run"*|*" -skip"*|*" -test.short"*|*" -test.run"*|*" -test.skip"*) true;; *) false;; esac; then \
		echo "make test: every tier runs; skip switches (NAP_SKIP*, -short/-run/-skip in GOFLAGS) are refused" >&2; exit 2; fi
	@users="$${TMPDIR:-/tmp}/nap-sandbox-users.txt"; rm -f "$$users"; \
	$(GO) test -count=1 -timeout 19m ./...; status=$$?; \
	if [ -s "$$users" ]; then echo "tests that used a simulated machine:"; sort -u "$$users"; fi; \
	exit $$status

# fleet v1.0.0 (no distribution packages it): the archive in the shared tools
# (its README has provenance and licence), unless fleetd and fleetctl are in PATH.
FLEET_ARCHIVE ?= ../shared/tools/fleet/fleet-v1.0.0-linux-amd64.tar.xz
FLEET_SHA256 := 3af7da440647152c91723b6624227b60117a7ae9c7a84530fb30ced8395ffa3b

# deps installs the Debian packages that are missing (as root, with apt-get),
# and fleet into /usr/local/bin.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to apt-get install$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@if ! command -v fleetd >/dev/null || ! command -v fleetctl >/dev/null; then \
		if [ ! -f "$(FLEET_ARCHIVE)" ]; then echo "make deps: fleet is not in PATH and $(FLEET_ARCHIVE) is missing" >&2; exit 1; fi; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to install fleet into /usr/local/bin" >&2; exit 1; fi; \
		echo "$(FLEET_SHA256)  $(FLEET_ARCHIVE)" | sha256sum -c --quiet - || exit 1; \
		tmp=$$(mktemp -d) && tar -xJf "$(FLEET_ARCHIVE)" -C "$$tmp" --strip-components=1 && \
		install -m 0755 "$$tmp/fleetd" "$$tmp/fleetctl" /usr/local/bin/ && \
		install -d /usr/local/share/doc/fleet && install -m 0644 "$$tmp/LICENSE" "$$tmp/NOTICE" /usr/local/share/doc/fleet/ && \
		rm -rf "$$tmp" && echo "installed fleetd and fleetctl v1.0.0 into /usr/local/bin"; \
	fi

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out" >&2; exit 1; fi
