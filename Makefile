# The front door. `make run` and `make test` each install what they need.
SHELL := /bin/bash
EXAMPLE ?= ../shared/examples/gateway.json
DATA ?= ./var
# Debian packages the integration tests and benchmarks drive as real peers.
DEB_PACKAGES := baresip-core sip-tester mosquitto sox socat kamailio kamailio-tls-modules iproute2 nftables openssl

.PHONY: all deps deps-npm deps-deb build typecheck lint test test-unit test-integration run bench image ota-bundle qemu-smoke clean
BOARD ?= x86-poe

all: build

deps: deps-npm deps-deb

# `npm install` honours the versions in package-lock.json. Not `npm ci`: the npm 11
# on these machines writes lock files without other platforms' optional packages
# (rollup's) and then refuses them in `npm ci` as out of sync.
deps-npm: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json $(wildcard package-lock.json)
	npm install --no-audit --no-fund
	@touch $@

# Installs the Debian packages only when one of them is not installed (by package, not by
# command: kamailio-tls-modules adds no command of its own).
deps-deb:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages (missing:$$missing)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $(DEB_PACKAGES) >/dev/null; \
	fi
	@# The packaged daemons must not run on their own: tests start their own instances.
	@-systemctl disable --now mosquitto kamailio >/dev/null 2>&1 || true

build: deps-npm
	npx tsup

typecheck: deps-npm
	npx tsc --noEmit -p tsconfig.json

lint: deps-npm
	npx eslint --max-warnings 0 .

test: deps build
	@$(MAKE) --no-print-directory typecheck lint
	node --import tsx tests/run.ts all

test-unit: deps-npm
	node --import tsx tests/run.ts unit

test-integration: deps build
	node --import tsx tests/run.ts integration

run: deps-npm build
	@mkdir -p $(DATA)
	node dist/cli.js dev-config $(EXAMPLE) > $(DATA)/gateway.dev.json
	node dist/cli.js run --config $(DATA)/gateway.dev.json --data $(DATA)

bench: deps build
	node --import tsx tests/bench/run.ts

# The appliance image (issue 5, docs/IMAGE.md): needs root and Debian's mmdebstrap/genimage, which
# build.sh installs. Not part of make test: an x86-poe image takes about 2 minutes here, rpi4-poe ~40.
image: build
	bash image/build.sh BOARD=$(BOARD)

# An OTA bundle of the image's root file system (signed when KEY is given).
ota-bundle: build
	bash image/ota-bundle.sh BOARD=$(BOARD) $(if $(KEY),KEY=$(KEY))

# Boots the x86 image under qemu (software emulation) until the gateway answers /api/v1/status.
qemu-smoke:
	bash image/qemu-smoke.sh

clean:
	rm -rf dist
