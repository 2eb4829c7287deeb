#!/usr/bin/env bash
# Smoke test of a running API, deployed or local: the health check, one admin tab, one report
# downloaded (the workbook fetched from its link) and one report emailed (its job followed to
# `done`). Exits non-zero at the first check that fails, naming it.
#
#   infra/smoke.sh --url URL --admin-token T --org-token T --org ORG_ID [--report-type TYPE]
#   infra/smoke.sh --local
#
# --url            the API's base URL (the stack's ApiUrl output);
# --admin-token    a token of a `platform_admin` (reads the Feed tab);
# --org-token      a token of an `org_admin` or `org_reporter` of ORG_ID who is an active
#                  account of that organisation with an email address (the emailed report goes
#                  to it);
# --org            the organisation the reports are about;
# --report-type    the report to download and email (default `organisation`, the quickest).
# The same values may come from SMOKE_URL, SMOKE_ADMIN_TOKEN, SMOKE_ORG_TOKEN, SMOKE_ORG_ID.
#
# --local builds the local server (debug), starts it on a fresh data directory with the demo
# data, takes the tokens it prints for the platform admin and org-1's admin, runs the same
# checks against it and stops it. Needs curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

url=${SMOKE_URL:-}
admin_token=${SMOKE_ADMIN_TOKEN:-}
org_token=${SMOKE_ORG_TOKEN:-}
org=${SMOKE_ORG_ID:-}
report_type=organisation
local_run=false
usage="usage: $0 (--url URL --admin-token T --org-token T --org ORG_ID | --local) [--report-type TYPE]"
while [[ $# -gt 0 ]]; do
    case $1 in
    --url) url=$2; shift 2 ;;
    --admin-token) admin_token=$2; shift 2 ;;
    --org-token) org_token=$2; shift 2 ;;
    --org) org=$2; shift 2 ;;
    --report-type) report_type=$2; shift 2 ;;
    --local) local_run=true; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
done

server_pid=""
data_dir=""
on_exit() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n $data_dir ]]; then
        rm -rf "$data_dir"
    fi
}
trap on_exit EXIT

if $local_run; then
    cargo build --locked -q -p local-server
    data_dir=$(mktemp -d)
    "${CARGO_TARGET_DIR:-$root/target}/debug/local-server" serve --port 0 \
        --data-dir "$data_dir/data" >"$data_dir/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 240); do
        url=$(sed -n 's/^Telehealth reporting API (local) at //p' "$data_dir/server.log")
        [[ -n $url ]] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.5
    done
    if [[ -z $url ]]; then
        echo "the local server did not start:" >&2
        cat "$data_dir/server.log" >&2
        exit 1
    fi
    # The server prints one token per demo identity: "  <role>  <token>"; the first org_admin
    # is org-1's.
    token_of() { awk -v r="$1" '$1 == r { print $2; exit }' "$data_dir/server.log"; }
    admin_token=$(token_of platform_admin)
    org_token=$(token_of org_admin)
    org=org-1
fi

if [[ -z $url || -z $admin_token || -z $org_token || -z $org ]]; then
    echo "$usage" >&2
    exit 2
fi
url=${url%/}
work=$(mktemp -d)
trap 'rm -rf "$work"; on_exit' EXIT

fail() {
    echo "FAILED: $1" >&2
    if [[ -f $work/body ]]; then
        head -c 2000 "$work/body" >&2
        echo >&2
    fi
    exit 1
}

# call METHOD PATH TOKEN [JSON BODY]: the status; the body in $work/body.
call() {
    local method=$1 path=$2 token=$3 body=${4:-}
    local args=(-sS -o "$work/body" -w '%{http_code}' -X "$method" -H 'accept: application/json')
    [[ -n $token ]] && args+=(-H "authorization: Bearer $token")
    [[ -n $body ]] && args+=(-H 'content-type: application/json' --data "$body")
    curl "${args[@]}" "$url$path" || true
}

# field PYTHON-EXPRESSION: evaluates it on the last body, parsed as `b`.
field() {
    python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$work/body" "$1"
}

check() { printf 'ok   %s\n' "$1"; }

status=$(call GET /health "")
[[ $status == 200 && $(field 'b["status"]') == ok ]] || fail "GET /health answered $status"
check "GET /health: ok, version $(field 'b["version"]')"

status=$(call GET "/admin/feed?limit=5" "$admin_token")
[[ $status == 200 ]] || fail "GET /admin/feed answered $status"
check "GET /admin/feed: $(field 'len(b["items"])') threads on the first page"

# The last seven days (UTC), with python3 rather than GNU date's -d.
read -r from to < <(python3 -c 'import datetime as d; t = d.datetime.now(d.timezone.utc).date(); print(t - d.timedelta(days=6), t)')
params="{\"from\":\"$from\",\"to\":\"$to\",\"time_zone\":\"UTC\",\"min_duration_seconds\":0}"

status=$(call POST "/orgs/$org/reports/$report_type/download" "$org_token" "$params")
[[ $status == 201 ]] || fail "POST /orgs/$org/reports/$report_type/download answered $status"
link=$(field 'b["url"]')
rows=$(field 'b["report"]["row_count"]')
curl -sS -f -o "$work/report.xlsx" "$link" || fail "the report's link did not answer"
[[ $(head -c 2 "$work/report.xlsx") == PK ]] || fail "the report's link did not serve a workbook"
check "POST .../$report_type/download: $rows rows, $(wc -c <"$work/report.xlsx") bytes fetched from its link"

status=$(call POST "/orgs/$org/reports/$report_type/email" "$org_token" "$params")
# 202 for a new job; the same request within 10 minutes answers the job it already made.
[[ $status == 202 || $status == 200 ]] || fail "POST /orgs/$org/reports/$report_type/email answered $status"
status_url=$(field 'b["status_url"]')
state=$(field 'b["job"]["state"]')
for _ in $(seq 1 300); do
    [[ $state == done ]] && break
    [[ $state == failed ]] && fail "the email job failed: $(field 'b["job"].get("reason")')"
    sleep 1
    status=$(call GET "$status_url" "$org_token")
    [[ $status == 200 ]] || fail "GET $status_url answered $status"
    state=$(field 'b["job"]["state"]')
done
[[ $state == done ]] || fail "the email job is still $state after 300 s"
check "POST .../$report_type/email: job $(field 'b["job"]["job_id"]') done, $(field 'b["job"]["row_count"]') rows mailed"

echo "smoke test passed against $url"
