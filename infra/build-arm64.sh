#!/usr/bin/env bash
# Builds the functions for AWS Lambda on Graviton (arm64, provided.al2023) as `sam build` does,
# with cargo-lambda and zig from .venv (infra/python/requirements-build.txt), and checks each
# artifact (infra/python/check_lambda_artifacts.py: AArch64 ELF, the glibc loader, no library
# or glibc symbol the runtime's image lacks, the size).
#
#   infra/build-arm64.sh [--profile release|dev] [FUNCTION...]
#
#   --profile release  the deployed build (the default): fat LTO, stripped; each artifact held
#                      to 12 MB (requirement Q4). About 4 min per function on 2 cores, plus
#                      the dependencies once.
#   --profile dev      the same cross toolchain (zig's linker, the C of ring and mimalloc, glibc
#                      symbol versions) in minutes: what the test command builds for two
#                      functions; size held to Lambda's 250 MiB unzipped limit only.
#   FUNCTION           binary names of functions/*/Cargo.toml (default: every one).
#
# The artifacts land in $CARGO_TARGET_DIR/lambda/<function>/bootstrap (default target/). The
# arm64 Rust standard library is added with rustup when missing.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
venv="$root/.venv"
python=${PYTHON:-python3}
target=${CARGO_TARGET_DIR:-$root/target}
profile=release
functions=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --profile) profile=${2:-}; shift ;;
        --profile=*) profile=${1#--profile=} ;;
        -*) echo "usage: infra/build-arm64.sh [--profile release|dev] [FUNCTION...]" >&2; exit 2 ;;
        *) functions+=("$1") ;;
    esac
    shift
done
case $profile in
    release) profile_flags=(--release); max_bytes=12000000 ;;
    dev) profile_flags=(); max_bytes=$((250 * 1024 * 1024)) ;;
    *) echo "--profile is release or dev, not '$profile'" >&2; exit 2 ;;
esac
if [[ ${#functions[@]} -eq 0 ]]; then
    mapfile -t functions < <(sed -n '/^\[\[bin\]\]/,/^name/s/^name *= *"\(.*\)"/\1/p' functions/*/Cargo.toml | sort)
fi

if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    "$python" -m venv "$venv"
fi
if [[ ! -x $venv/bin/cargo-lambda || ! -x $venv/bin/python-zig ]] ||
    ! "$venv/bin/python" -c 'import elftools' >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet \
        -r infra/python/requirements-build.txt
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
    rustup target add aarch64-unknown-linux-gnu

bins=()
for f in "${functions[@]}"; do bins+=(--bin "$f"); done
echo "cargo lambda build --arm64 (${profile}): ${functions[*]}"
PATH="$venv/bin:$PATH" cargo lambda build --arm64 --locked "${profile_flags[@]}" "${bins[@]}"

artifacts=()
for f in "${functions[@]}"; do artifacts+=("$target/lambda/$f/bootstrap"); done
"$venv/bin/python" infra/python/check_lambda_artifacts.py --max-bytes "$max_bytes" "${artifacts[@]}"
