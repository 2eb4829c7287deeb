#!/usr/bin/env bash
# Profiles one phase of the export benchmark with `perf record` (CPU-clock sampling: this
# machine's perf has no hardware counters) and prints the hottest symbols per thread.
#
#   infra/profile.sh [--rows N] [--phase xlsx|one-thread|csv|raw-xlsx|raw-csv] [--out DIR] [--bin PATH]
#
# Builds `bench` with the `profiling` profile (release code, symbols kept), runs
# `bench --no-cold-start --rows N`, attaches perf to it when the phase's line appears on the
# harness's stderr and stops at that phase's result line, so the demo load is not in the profile.
# `--bin` profiles a `bench` binary built before (with symbols) instead of building one.
# Writes DIR/perf.data, DIR/by-symbol.txt (flat, self time) and DIR/by-thread.txt.
# Honours CARGO_TARGET_DIR.
set -euo pipefail

cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
rows=100000
phase=xlsx
out=""
bin=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --rows) rows=$2; shift ;;
        --phase) phase=$2; shift ;;
        --out) out=$2; shift ;;
        --bin) bin=$2; shift ;;
        *) echo "usage: infra/profile.sh [--rows N] [--phase xlsx|one-thread|csv|raw-xlsx|raw-csv] [--out DIR] [--bin PATH]" >&2; exit 2 ;;
    esac
    shift
done
out=${out:-$target/profile/$phase-$rows}
mkdir -p "$out"

# The harness's stderr line that starts each phase (bench/src/exports.rs); the phase ends at
# the next result line (`  Measured ...`), the first round's.
case $phase in
    xlsx) start='^xlsx: our export \(store' ;;
    one-thread) start='^xlsx: our export, one thread' ;;
    csv) start='^csv: our export' ;;
    raw-xlsx) start='^xlsx: raw rust_xlsxwriter constant-memory\.\.\.' ;;
    raw-csv) start='^csv: raw csv crate' ;;
    *) echo "unknown phase $phase" >&2; exit 2 ;;
esac

command -v perf >/dev/null || { echo "perf is missing (Debian: apt-get install linux-perf)" >&2; exit 1; }
if [[ -z $bin ]]; then
    cargo build --locked -q --profile profiling -p bench
    bin="$target/profiling/bench"
fi

log="$out/bench.log"
"$bin" --no-cold-start --rows "$rows" --workdir "$out/work" 2>"$log" >/dev/null &
bench_pid=$!
perf_pid=""
cleanup() {
    [[ -n $perf_pid ]] && kill -INT "$perf_pid" 2>/dev/null || true
    kill "$bench_pid" 2>/dev/null || true
}
trap cleanup EXIT

wait_for() { # pattern: waits until a line of the log matches (after the first $2 lines)
    until tail -n +"$(($2 + 1))" "$log" | grep -Eq "$1"; do
        kill -0 "$bench_pid" 2>/dev/null || { echo "bench ended before '$1'" >&2; cat "$log" >&2; exit 1; }
        sleep 0.05
    done
}
wait_for "$start" 0
seen=$(grep -En "$start" "$log" | head -n 1 | cut -d: -f1)
perf record -e cpu-clock -F 1999 -o "$out/perf.data" -p "$bench_pid" 2>"$out/perf.log" &
perf_pid=$!
wait_for '^  Measured' "$seen"
kill -INT "$perf_pid"
wait "$perf_pid" || true
perf_pid=""
kill "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
trap - EXIT

perf report -i "$out/perf.data" --no-children --sort comm,sym --percent-limit 0.3 --stdio 2>/dev/null \
    | { grep -v -e '^#' -e '^$' || true; } >"$out/by-symbol.txt"
# Threads by name: the main thread (named after the binary) runs the async code, i.e. the
# store reads and row building; `tokio-rt-worker` ones the blocking writer and the zip.
perf report -i "$out/perf.data" --no-children --sort comm --stdio 2>/dev/null \
    | { grep -v -e '^#' -e '^$' || true; } >"$out/by-thread.txt"
grep -E "^ +[0-9]" "$log" | sed -n 1p >&2 || true
echo "== threads ($phase, $rows rows)" >&2
cat "$out/by-thread.txt" >&2
echo "== hottest symbols" >&2
head -n 40 "$out/by-symbol.txt" >&2
echo "written to $out" >&2
