#!/usr/bin/env bash
# Tab latency under load on the local run (requirement Q4, docs/benchmarks.md): the local
# server (the `server` profile: release, its HTTP stack at opt-level 3; Cargo.toml) loaded with
# the demo world scaled to `--threads` message threads holding about 1,000,000 messages
# (`--chatter 3` extra patient messages per thread), then every admin tab's first page, the
# 14-day counts, one thread's details and the organisation's report history under wrk at
# `--connections` concurrent connections for `--seconds` each. Prints one markdown table:
# requests per second, p50 and p99 latency, and the items read per row of that page.
#
#   bash infra/bench-tabs.sh [--threads 100000] [--chatter 3] [--connections 32] [--seconds 10]
#                            [--debug] [--bin PATH]
#
# The data directory (target/bench-data/tabs-<threads>-<chatter>) is loaded through ingest on
# the first run only. Needs wrk (Debian's package; installed with apt-get when missing), curl
# and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
threads=100000
chatter=3
connections=32
seconds=10
profile=server
bin=""
while [[ $# -gt 0 ]]; do
    case $1 in
    --threads) threads=$2; shift 2 ;;
    --chatter) chatter=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --debug) profile=debug; shift ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "usage: $0 [--threads N] [--chatter K] [--connections C] [--seconds S] [--debug] [--bin PATH]" >&2; exit 2 ;;
    esac
done
if ! command -v wrk >/dev/null; then
    if [[ $(id -u) -eq 0 ]]; then apt-get install -y -q wrk >/dev/null; else sudo apt-get install -y -q wrk >/dev/null; fi
fi
data=${CARGO_TARGET_DIR:-$root/target}/bench-data/tabs-$threads-$chatter
source infra/bench-server.sh
start_bench_server --bench-threads "$threads" --chatter "$chatter"
echo "server RSS $(($(awk '/VmRSS/{print $2}' /proc/$pid/status) / 1024)) MiB"
admin=$(awk '$1 == "platform_admin" { print $2; exit }' "$log/out")
org=$(awk '$1 == "org_admin" { print $2; exit }' "$log/out")
thread=$(curl -sS -H "Authorization: Bearer $admin" "$url/admin/feed?limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["thread_id"])')
# A few reports in the history, so it has rows to list.
for _ in 1 2 3; do
    curl -sS -o /dev/null -H "Authorization: Bearer $org" -H 'content-type: application/json' \
        -d "{\"from\":\"$(date -u -d '-20 days' +%F)\",\"to\":\"$(date -u +%F)\"}" \
        "$url/orgs/org-1/reports/organisation/download"
done
echo
echo "| endpoint | req/s | p50 | p99 | items read per row | socket errors |"
echo "|---|---|---|---|---|---|"
run() {
    local name=$1 token=$2 path=$3
    local read rows
    read -r read rows < <(curl -sS -D "$log/h" -H "Authorization: Bearer $token" "$url$path" |
        python3 -c 'import json,sys; b=json.load(sys.stdin); i=b.get("items"); print(b.get("read", "-"), len(i) if isinstance(i, list) else "-")')
    local per_row="-"
    if [[ $read != - && $rows != - && $rows != 0 ]]; then
        per_row=$(python3 -c "print(f'{$read / $rows:.2f} ($read/$rows)')")
    fi
    # A 2-second warm-up at the same load first (not counted): the first endpoint measured
    # otherwise pays the server's cold caches and its connections' first allocations.
    wrk -t2 -c"$connections" -d2s -H "Authorization: Bearer $token" "$url$path" >/dev/null 2>&1
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" \
        "$url$path" >"$log/wrk" 2>&1
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec/ { print $2 }' "$log/wrk")
    p50=$(awk '$1 == "50%" { print $2 }' "$log/wrk")
    p99=$(awk '$1 == "99%" { print $2 }' "$log/wrk")
    if grep -q "Non-2xx" "$log/wrk"; then
        echo "$name: answers other than 2xx:" >&2
        cat "$log/wrk" >&2
        exit 1
    fi
    # Socket errors (timeouts past wrk's 2 s) are reported, not hidden.
    errors=$(sed -n 's/^ *Socket errors: //p' "$log/wrk")
    echo "| $name \`$path\` | $rps | $p50 | $p99 | $per_row | ${errors:-none} |"
}
run feed "$admin" "/admin/feed"
run "thread details" "$admin" "/admin/threads/$thread"
run consultations "$admin" "/admin/consultations"
run "14-day counts" "$admin" "/admin/consultations/counts"
run calls "$admin" "/admin/calls"
run practitioners "$admin" "/admin/practitioners"
run ratings "$admin" "/admin/ratings"
run payments "$admin" "/admin/payments"
run "payment items" "$admin" "/admin/payment-items"
run vouchers "$admin" "/admin/vouchers"
run "report history" "$org" "/orgs/org-1/reports/history"
echo
echo "($profile build, $connections connections, ${seconds} s each, $(nproc) cores; server and wrk share the machine)"
