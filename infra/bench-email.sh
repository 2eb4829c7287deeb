#!/usr/bin/env bash
# The emailed Consultations report at benchmark volume on the local run (docs/benchmarks.md):
# from the request to the email in the outbox, with the server's memory sampled throughout.
#
#   bash infra/bench-email.sh [--rows 1000000] [--data-dir DIR] [--debug] [--bin PATH]
#
# Builds the local server (the `server` profile, Cargo.toml; debug with --debug; --bin uses one
# built before), starts it on
# a data directory holding the demo world with one organisation whose waiting areas make
# `--rows` Consultations rows (loaded through ingest on the first start only; later runs replay
# the store's log), asks for the whole window's Consultations report by email as the org
# admin, polls the job, and prints one line of figures: rows, bytes, seconds from request to
# the .eml in the outbox, the server's RSS before and its peak during the job (VmRSS sampled
# every 50 ms, and VmHWM after a reset through /proc/PID/clear_refs). Needs curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rows=1000000
data=""
profile=server
bin=""
while [[ $# -gt 0 ]]; do
    case $1 in
    --rows) rows=$2; shift 2 ;;
    --data-dir) data=$2; shift 2 ;;
    --debug) profile=debug; shift ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "usage: $0 [--rows N] [--data-dir DIR] [--debug] [--bin PATH]" >&2; exit 2 ;;
    esac
done
data=${data:-${CARGO_TARGET_DIR:-$root/target}/bench-data/email-$rows}
source infra/bench-server.sh
started=$(date +%s.%N)
start_bench_server --bench-rows "$rows"
ready=$(date +%s.%N)
printf 'server ready in %.1f s (load or log replay); RSS %d MiB\n' \
    "$(echo "$ready - $started" | bc)" "$(($(awk '/VmRSS/{print $2}' /proc/$pid/status) / 1024))"
token=$(awk '$1 == "org_admin" { print $2; exit }' "$log/out")
outbox=$data/outbox
mails() { if [[ -d $outbox ]]; then find "$outbox" -name '*.eml' | wc -l; else echo 0; fi; }
mails_before=$(mails)
to=$(date -u +%F)
from=$(date -u -d "-13 months" +%F)
echo 5 >/proc/$pid/clear_refs
base=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
peak=$base
t0=$(date +%s.%N)
answer=$(curl -sS -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"from\":\"$from\",\"to\":\"$to\",\"time_zone\":\"UTC\",\"min_duration_seconds\":0}" \
    "$url/orgs/org-1/reports/consultations/email")
job=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["job_id"])' <<<"$answer")
while true; do
    r=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
    ((r > peak)) && peak=$r
    if (($(mails) > mails_before)); then
        break
    fi
    state=$(curl -sS -H "Authorization: Bearer $token" "$url/orgs/org-1/reports/jobs/$job" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["state"])')
    if [[ $state == failed ]]; then
        echo "the job failed" >&2
        exit 1
    fi
    sleep 0.05
done
t1=$(date +%s.%N)
hwm=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
((hwm > peak)) && peak=$hwm
job_json=$(curl -sS -H "Authorization: Bearer $token" "$url/orgs/org-1/reports/jobs/$job")
read -r job_rows job_bytes < <(python3 -c 'import json,sys; j=json.load(sys.stdin)["job"]; print(j["row_count"], j["size_bytes"])' <<<"$job_json")
secs=$(echo "$t1 - $t0" | bc)
printf 'emailed Consultations report (%s, %s to %s): %s rows, %s bytes, %.1f s from request to email (%.0f rows/s); server RSS %d MiB before, peak %d MiB during the job (+%d MiB)\n' \
    "$profile" "$from" "$to" "$job_rows" "$job_bytes" "$secs" "$(echo "$job_rows / $secs" | bc)" \
    $((base / 1024)) $((peak / 1024)) $(((peak - base) / 1024))
