# Two commands on a fresh machine: `make demo` (the scheduler against a local AWS stand-in) and
# `make test` (every test). Both create the project's Python virtualenv first when needed.
VENV := .venv
TOOLS := $(VENV)/.installed
SAM_ENV := AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-west-1 SAM_CLI_TELEMETRY=0

.PHONY: setup demo test lint bench

BROWSER := tests/browser/node_modules/.installed

setup: $(TOOLS) $(BROWSER)

# Pinned moto[server], cfn-lint, cargo-lambda (with ziglang), aws-sam-cli: see requirements-dev.txt.
$(TOOLS): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# playwright-core for the drive-page browser test (pinned in tests/browser/package-lock.json). The
# browser itself is Debian's chromium (`apt-get install chromium`; `.ci/run` installs it).
$(BROWSER): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $@

demo: $(TOOLS)
	cargo run --quiet -p fleet-local --bin fleet-local-demo

test: $(TOOLS) $(BROWSER)
	cargo test --workspace

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
