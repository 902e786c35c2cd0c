#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target in fuzz/ for FUZZ_SECONDS each (default 60), or until
# FUZZ_RUNS executions when that is set and comes first, on its corpus in
# fuzz/corpus/<target>, seeded from events/ and the test fixtures (tests/fuzz_seeds.py). The
# machine's stable toolchain builds the targets with RUSTC_BOOTSTRAP=1 (no other toolchain can be
# fetched here). Prints per target: executions, coverage, features, corpus size; a crash stops the
# run with the failing input under fuzz/artifacts/<target>/ (make it a regression test, and keep the
# input in fuzz/regressions/<target>/, which every run replays).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
runs_limit=()
[ -n "${FUZZ_RUNS:-}" ] && runs_limit=(-runs="$FUZZ_RUNS")
targets="${FUZZ_TARGETS:-schedule explain s3_key chunker transcript robot_command approval_link approval_form tagging_rules otp_api alexa_request dlq_message}"
command -v cargo-fuzz >/dev/null || cargo install --quiet --locked cargo-fuzz --version "${CARGO_FUZZ_VERSION:-0.13.1}"
export RUSTC_BOOTSTRAP=1
# The fuzz build (sanitizer flags) gets its own target dir, so it never invalidates the
# workspace's release artefacts.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
python3 tests/fuzz_seeds.py

printf '%-16s %12s %10s %8s %8s %8s\n' target executions exec/s cov ft corpus
for target in $targets; do
  log="$CARGO_TARGET_DIR/$target.log"
  mkdir -p "$CARGO_TARGET_DIR"
  # Inputs that found a bug, replayed on every run (cmin never drops them from here).
  regressions=()
  [ -d "fuzz/regressions/$target" ] && regressions=("fuzz/regressions/$target")
  if ! cargo fuzz run --sanitizer none "$target" "fuzz/corpus/$target" "${regressions[@]}" -- \
      -max_total_time="$seconds" "${runs_limit[@]}" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target failed (input under fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -ao 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  printf '%-16s %12s %10s %8s %8s %8s\n' "$target" "$runs" "$rate" "$cov" "$ft" "$corpus"
done
