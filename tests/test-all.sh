#!/usr/bin/env bash
# `make test`: every test binary of the workspace, even after one fails, then one total line
# (`tests: N passed, N failed`) summed over every binary's `test result:` line. Exits non-zero
# when a test failed, a binary did not finish, or nothing passed. Extra arguments go to
# `cargo test` (e.g. `tests/test-all.sh -- --test-threads=1`).
set -uo pipefail

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

awk -v status="$status" '
  /^test result:/ {
    for (i = 1; i < NF; i++) {
      if ($(i + 1) ~ /^passed/) passed += $i
      if ($(i + 1) ~ /^failed/) failed += $i
    }
  }
  END {
    line = sprintf("tests: %d passed, %d failed", passed, failed)
    # A binary that crashed or did not compile prints no result line: say so on the same line.
    if (status != 0 && failed == 0) line = line sprintf(" (cargo test exited with status %d: see above)", status)
    print line
    if (status == 0 && passed == 0) exit 1
    exit (status != 0)
  }' "$log"
