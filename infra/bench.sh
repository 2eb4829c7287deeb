#!/usr/bin/env bash
# The benchmarks (requirement Q4; the figures are in docs/benchmarks.md) in one command: builds
# the release binaries, installs Python's XlsxWriter into .venv, runs the `bench` harness
# (bench/src/main.rs) and prints ONE markdown table, also written to $TARGET/bench/results.md
# (or --out FILE).
#
#   infra/bench.sh [--rows N] [--runs N] [--rounds N] [--out FILE] [--tiny]
#
#   --rows N   Consultations rows of the export benchmarks (default 1,000,000)
#   --runs N   starts per function binary for the cold-start figures (default 20)
#   --rounds N every export N times, interleaved, each figure the best of them (default 1)
#   --tiny     the smoke run the test command does: debug build, 2,000 rows, the `health`
#              binary only, 3 starts; its figures mean nothing, it only keeps the harness working
#
# Honours CARGO_TARGET_DIR. Set PYTHON to pick the interpreter that creates .venv.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
venv="$root/.venv"
python=${PYTHON:-python3}
tiny=0
out=""
args=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --tiny) tiny=1 ;;
        --rows | --runs | --rounds) args+=("$1" "$2"); shift ;;
        --out) out=$2; shift ;;
        *) echo "usage: infra/bench.sh [--rows N] [--runs N] [--rounds N] [--out FILE] [--tiny]" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$target/bench"
out=${out:-$target/bench/results.md}

# Python's XlsxWriter, for the Python row.
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r infra/python/requirements-bench.txt

if [[ $tiny -eq 1 ]]; then
    cargo build --locked -q -p bench -p health
    "$target/debug/bench" --tiny --python "$venv/bin/python" \
        --functions-dir "$target/debug" --functions health --out "$out" "${args[@]}"
else
    echo "building the release binaries (cold: ~20 min on 2 cores)..." >&2
    cargo build --locked --release --workspace --bins
    "$target/release/bench" --python "$venv/bin/python" \
        --functions-dir "$target/release" --out "$out" "${args[@]}"
    echo >&2
    echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
        "$(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)" >&2
fi
echo "written to $out" >&2
