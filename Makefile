# Two commands on a fresh machine: `make demo` (the whole fleet against a local AWS stand-in;
# `make demo SECTION=alexa` runs one section) and
# `make test` (every test). Both run `make setup` first: the project's Python virtualenv, the
# browser test's npm package, and Debian's Chromium when it is missing.
VENV := .venv
TOOLS := $(VENV)/.installed
SAM_ENV := AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-west-1 SAM_CLI_TELEMETRY=0

.PHONY: setup chromium demo test lint bench sam-build bench-cold bench-load fuzz

BROWSER := tests/browser/node_modules/.installed

setup: $(TOOLS) $(BROWSER) chromium

# Pinned moto[server], cfn-lint, cargo-lambda (with ziglang), aws-sam-cli: see requirements-dev.txt.
$(TOOLS): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# The drive-page browser test needs Node.js with playwright-core (pinned in
# tests/browser/package-lock.json) and a Chromium: Debian's chromium, or CHROMIUM=/path/to/it.
# Missing Debian packages are installed when this machine can (root with apt-get); otherwise
# one line says how, setup goes on (the demo needs none of them) and the browser test fails
# saying the same.
CAN_APT := [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null
APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

$(BROWSER): tests/browser/package-lock.json
	@if ! command -v npm >/dev/null && $(CAN_APT); then \
	  echo "make setup: installing Debian's nodejs and npm for the drive-page browser test (apt-get)"; \
	  $(APT_INSTALL) nodejs npm >/dev/null; \
	fi
	@if command -v npm >/dev/null; then \
	  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "make setup: npm is missing; the drive-page browser test needs Node.js and npm: sudo apt-get install nodejs npm, then make setup"; \
	fi

chromium:
	@if [ -x "$${CHROMIUM:-/usr/bin/chromium}" ]; then :; \
	elif $(CAN_APT); then \
	  echo "make setup: installing Debian's chromium for the drive-page browser test (apt-get)"; \
	  $(APT_INSTALL) chromium >/dev/null \
	    || echo "make setup: apt-get could not install chromium; the drive-page browser test fails until it is installed"; \
	else \
	  echo "make setup: $${CHROMIUM:-/usr/bin/chromium} is missing; the drive-page browser test needs it: sudo apt-get install --no-install-recommends chromium (or set CHROMIUM=/path/to/chromium)"; \
	fi

demo: setup
	cargo run --quiet -p fleet-local --bin fleet-local-demo -- $(SECTION)

# Every test binary, even after one fails (--no-fail-fast), then `tests: N passed, N failed`;
# non-zero when any test failed.
test: setup
	tests/test-all.sh

lint: $(TOOLS)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_ENV) $(VENV)/bin/sam validate --lint --region eu-west-1

bench: $(TOOLS)
	cargo run --quiet -p fleet-local --bin fleet-bench-scheduler
	cargo run --quiet -p fleet-local --bin fleet-bench-tagging
	cargo run --quiet -p fleet-local --bin fleet-bench-robot
	cargo bench --quiet -p dlq-handler --bench dlq --profile dev
	cargo bench --quiet --workspace --bench enumeration --profile dev
	cargo run --quiet -p call-center --no-default-features --features bench --bin call-center-bench
	$(MAKE) bench-cold
	$(MAKE) bench-load

# `sam build` as a user runs it (SAM's rust-cargolambda, one cargo lambda build per function),
# for ARCH (default x86_64), checking one bootstrap per function: tests/sam-build.sh. LTO=false
# builds without link-time optimisation (quicker; the README's sizes use the shipping profile).
sam-build: $(TOOLS)
	tests/sam-build.sh

# Cold starts of the shipped binaries (.aws-sam/build, or BUILD_DIR) under the test kit's Lambda
# Runtime API emulator: time to the first response, init, peak RSS, size.
bench-cold: sam-build
	cargo run --quiet -p fleet-local --bin fleet-bench-cold

# Bounded load on loopback (LOAD_REQUESTS per HTTP function, default 10,000, from LOAD_CLIENTS
# instances, default 4) under the same emulator: answers by status, p50/p99 latency,
# throughput, memory per instance; fails on any answer that is not a designed one.
bench-load: sam-build
	cargo run --quiet -p fleet-local --bin fleet-bench-load

# The cargo-fuzz targets in fuzz/ (parsers of outside input), each for FUZZ_SECONDS (default 60)
# on its corpus in fuzz/corpus/, then executions, coverage and corpus size per target:
# tests/fuzz.sh. A crash fails with the input saved under fuzz/artifacts/.
fuzz:
	tests/fuzz.sh
