# The one test command is `make test` (README.md): it installs what the tests
# need on a fresh Debian machine, then runs every tier. No tier can be skipped:
# a component that cannot start fails the run.
SHELL := /bin/bash
GO ?= go

# Debian packages the tests start for real.
DEB_PACKAGES := git etcd-server etcd-client docker.io docker-registry openssh-server \
	gitolite3 shellcheck hyperfine iproute2 util-linux procps dbus polkitd

.PHONY: test deps vet unit-tests

test: deps vet
	@if [ -n "$${NAP_SKIP_SANDBOX:-}$${NAP_SKIP:-}" ] || \
	   case " $${GOFLAGS:-} " in *" -short"*|*" -run"*|*" -skip"*|*" -test.short"*|*" -test.run"*|*" -test.skip"*) true;; *) false;; esac; then \
		echo "make test: every tier runs; skip switches (NAP_SKIP*, -short/-run/-skip in GOFLAGS) are refused" >&2; exit 2; fi
	@users="$${TMPDIR:-/tmp}/nap-sandbox-users.txt"; rm -f "$$users"; \
	$(GO) test -count=1 -timeout 19m ./...; status=$$?; \
	if [ -s "$$users" ]; then echo "tests that used a simulated machine:"; sort -u "$$users"; fi; \
	exit $$status

# deps installs the Debian packages that are missing (as root, with apt-get).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to apt-get install$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out" >&2; exit 1; fi
