# Sourced by infra/bench-email.sh and infra/bench-tabs.sh: builds the local server (unless
# `bin` names one already built), starts it on `data` with the serve flags given, waits until
# it answers, and stops it (removing its log directory) when the calling script exits.
# Needs `root`, `profile` (a Cargo profile: server, release or debug), `bin` (may be empty)
# and `data`; sets `target`, `bin`, `log` (its stdout in $log/out, stderr in $log/err), `pid`
# and `url`.
start_bench_server() {
    target=${CARGO_TARGET_DIR:-$root/target}
    if [[ -z $bin ]]; then
        if [[ $profile == debug ]]; then
            cargo build --locked -q -p local-server
        else
            cargo build --locked -q --profile "$profile" -p local-server
        fi
        bin=$target/$profile/local-server
    fi
    log=$(mktemp -d)
    mkdir -p "$data"
    "$bin" serve --port 0 --data-dir "$data" "$@" >"$log/out" 2>"$log/err" &
    pid=$!
    trap 'kill $pid 2>/dev/null || true; rm -rf "$log"' EXIT
    url=""
    while [[ -z $url ]]; do
        kill -0 $pid 2>/dev/null || { cat "$log/err" >&2; exit 1; }
        url=$(sed -n 's/^Telehealth reporting API (local) at //p' "$log/out")
        sleep 0.5
    done
    grep -h "demo data loaded" "$log/err" || echo "(demo data already in $data)"
}
