#!/usr/bin/env bash
# `make sam-build`: `sam build` exactly as a user runs it (SAM's rust-cargolambda method, one
# `cargo lambda build --release --bin NAME` per function), for the architecture in ARCH (default
# x86_64: these machines cannot fetch the aarch64 standard library), then checks the artefacts:
# one executable `bootstrap` per function of the template, for that architecture. Prints each
# function's size. LTO=false (CI) builds without link-time optimisation and with 16 codegen units,
# to stay within CI's time;
# the README's sizes come from the shipping profile (LTO=true).
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${ARCH:-x86_64}"
build_dir="${BUILD_DIR:-.aws-sam/build}"
export SAM_CLI_TELEMETRY=0 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-west-1
export PATH="$PWD/.venv/bin:$PATH"
# The quick variant: no link-time optimisation and 16 codegen units per crate (the shipping
# profile's single unit keeps one core busy for minutes on aws-sdk-ec2 alone).
if [ "${LTO:-true}" = false ]; then
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
fi

start=$(date +%s)
sam build --parameter-overrides "Architecture=$arch" --build-dir "$build_dir" --no-cached
echo "sam build: $(( $(date +%s) - start )) s (Architecture=$arch, LTO=${LTO:-true})"

# Every function of the template (a BuildMethod: rust-cargolambda resource) has its bootstrap.
functions=$(awk '/^  [A-Za-z0-9]+:$/ { name = substr($1, 1, length($1) - 1) }
                 /BuildMethod: rust-cargolambda/ { print name }' template.yaml)
count=0
printf '%-28s %10s\n' function bootstrap
for fn in $functions; do
  bootstrap="$build_dir/$fn/bootstrap"
  [ -x "$bootstrap" ] || { echo "sam build: $fn has no executable bootstrap ($bootstrap)" >&2; exit 1; }
  # The ELF header's e_machine: 62 is x86-64, 183 is aarch64.
  python3 - "$bootstrap" "$arch" <<'PY' || exit 1
import sys
path, arch = sys.argv[1], sys.argv[2]
head = open(path, "rb").read(20)
machine = int.from_bytes(head[18:20], "little")
want = {"x86_64": 62, "arm64": 183}[arch]
if head[:4] != b"\x7fELF" or machine != want:
    sys.exit(f"sam build: {path} is not an {arch} ELF executable (e_machine {machine})")
PY
  extra=$(find "$build_dir/$fn" -mindepth 1 -not -name bootstrap | head -3)
  [ -z "$extra" ] || { echo "sam build: $fn's artefact holds more than bootstrap: $extra" >&2; exit 1; }
  printf '%-28s %7s MB\n' "$fn" "$(python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1]) / 1e6:.1f}')" "$bootstrap")"
  count=$((count + 1))
done
[ "$count" -ge 13 ] || { echo "sam build: only $count functions found in template.yaml" >&2; exit 1; }
echo "sam build: $count functions, one $arch bootstrap each"
