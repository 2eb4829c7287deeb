#!/usr/bin/env bash
# The project's one test command (CI runs it through .ci/run).
#
# Needs only the Rust toolchain and Python 3 with venv/pip. Steps:
#   1. python tools: .venv at the repo root with moto (the tests' AWS emulator), cfn-lint, the
#      SAM CLI, schemathesis, cargo-lambda and zig, installed once and again only when a requirements file changes;
#   2. cfn-lint on template.yaml (any error or warning fails);
#   3. sam validate --lint on template.yaml (same);
#   4. cargo test for the whole workspace, with .venv/bin on PATH so the Rust tests' moto
#      harness finds moto_server;
#   5. schemathesis (`st`, from requirements-fuzz.txt) against the local server (empty data
#      directory plus a few seed events) from docs/openapi.yaml: every operation, once per role
#      with that role's token over the operations it may call with valid input (positive) and
#      again with input that breaks the document (negative; infra/python/fuzz_hooks.py), and
#      once with no token; fails on any 5xx, any answer the document does not describe, broken
#      input not refused with a 4xx, or a panic in the server's log.
#   6. browser tests of the web console (web/console) in Debian's Chromium (installed with apt
#      when missing), driven by playwright-core (web/tests, `npm ci`) against the local server.
#   7. the logs of steps 4 to 6 (every event the integration tests logged, the output of the
#      fuzzed server and of the console's server, which holds the demo data) searched by
#      `scan-test-logs` (tests/bin): every line JSON, request lines with their id, no demo
#      name, email or message text anywhere (requirement Q3, docs/requirements.md).
#   8. the benchmark harness at a tiny volume (`infra/bench.sh --tiny`, debug build, seconds), so
#      it cannot rot; its figures mean nothing (the real run is `infra/bench.sh`).
#   9. the smoke test of a deployed API (`infra/smoke.sh`: health, a tab, a downloaded and an
#      emailed report) against the local server with the demo data (about a minute), so it
#      cannot rot either; curl is installed with apt when missing.
#  10. the arm64 artifacts: `infra/build-arm64.sh --profile dev` cross-builds an HTTP function
#      (`health`) and the export job (`org-report-email-job`) with cargo-lambda and zig, as
#      `sam build` does, and checks each ELF (AArch64, the glibc loader, no library or glibc
#      symbol Amazon Linux 2023 lacks); then the bench harness starts both under qemu-user:
#      each reaches the runtime API, and `health` answers a GET 200 and a bad body 400. The dev
#      profile: the same toolchain and C code as the release build in about 3 minutes instead
#      of about 4 per function plus the dependencies (`infra/build-arm64.sh` alone builds the
#      release artifacts of every function, docs/deploy.md).
# Set PYTHON to pick the interpreter that creates the venv (default python3).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
venv="$root/.venv"
python=${PYTHON:-python3}
requirements=(infra/python/requirements-moto.txt infra/python/requirements-lint.txt infra/python/requirements-fuzz.txt infra/python/requirements-build.txt)
# Holds the hash of the requirement files the venv was last installed from.
stamp="$venv/.requirements.sha256"

current_step=""
started_all=$SECONDS

# Where step 4's tests (tests/main.rs) and the servers of steps 5 and 6 write the logs step 7
# searches.
test_logs="${CARGO_TARGET_DIR:-$root/target}/tmp/test-logs"

# The local server step 5 starts; stopped on any exit, also an interrupted one.
fuzz_server_pid=""

on_exit() {
    local rc=$?
    if [[ -n $fuzz_server_pid ]]; then
        kill "$fuzz_server_pid" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -n $current_step ]]; then
        printf '\n==== FAILED: %s (exit %d, %ds in total) ====\n' "$current_step" "$rc" "$((SECONDS - started_all))" >&2
    fi
}
trap on_exit EXIT

# Runs one named step with a header and its elapsed time.
step() {
    local name=$1
    shift
    current_step=$name
    printf '\n==== %s ====\n' "$name"
    local started=$SECONDS
    "$@"
    printf -- '---- %s: ok in %ds\n' "$name" "$((SECONDS - started))"
    current_step=""
}

requirements_hash() {
    "$python" - "${requirements[@]}" <<'EOF'
import hashlib, sys
digest = hashlib.sha256()
for path in sys.argv[1:]:
    digest.update(path.encode() + b"\0")
    with open(path, "rb") as f:
        digest.update(f.read())
    digest.update(b"\0")
print(digest.hexdigest())
EOF
}

tools_present() {
    [[ -x $venv/bin/moto_server && -x $venv/bin/cfn-lint && -x $venv/bin/sam && -x $venv/bin/st &&
        -x $venv/bin/cargo-lambda ]]
}

python_tools() {
    if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
        echo "creating $venv with $("$python" --version 2>&1)"
        "$python" -m venv --clear "$venv"
    fi
    local want have
    want=$(requirements_hash)
    have=$(cat "$stamp" 2>/dev/null || true)
    if [[ $want == "$have" ]] && tools_present; then
        echo "up to date (moto_server, cfn-lint, sam, st, cargo-lambda in .venv/bin)"
        return
    fi
    echo "installing ${requirements[*]} into .venv (a few minutes the first time)"
    rm -f "$stamp"
    local files=()
    for r in "${requirements[@]}"; do files+=(-r "$r"); done
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "${files[@]}"
    tools_present || {
        echo "moto_server, cfn-lint, sam, st or cargo-lambda is still missing from .venv/bin" >&2
        return 1
    }
    echo "$want" >"$stamp"
}

lint_cfn() {
    "$venv/bin/cfn-lint" --version
    "$venv/bin/cfn-lint" template.yaml
    echo "no findings"
}

lint_sam() {
    SAM_CLI_TELEMETRY=0 "$venv/bin/sam" validate --lint --region us-east-1 -t template.yaml
}

cargo_tests() {
    rm -rf "$test_logs"
    PATH="$venv/bin:$PATH" cargo test --workspace --locked
}

# Fuzzes the local server (a debug build) with schemathesis: see step 5 above. Bounded: a few
# examples per operation, role and mode, a fixed seed, no example database (every run the same).
fuzz_api() {
    local dir server_pid url role token status=0
    dir=$(mktemp -d)
    cargo build --locked -q -p local-server
    local bin="${CARGO_TARGET_DIR:-$root/target}/debug/local-server"
    "$bin" serve --port 0 --data-dir "$dir/data" --no-demo >"$dir/server.log" 2>&1 &
    server_pid=$!
    fuzz_server_pid=$server_pid
    for _ in $(seq 1 120); do
        url=$(sed -n 's/^Telehealth reporting API (local) at //p' "$dir/server.log")
        [[ -n $url ]] && break
        sleep 0.5
    done
    if [[ -z $url ]]; then
        echo "the local server did not start:" >&2
        cat "$dir/server.log" >&2
        kill "$server_pid" 2>/dev/null || true
        return 1
    fi
    # The server prints a ready token per role: "  <role>  <token>".
    token_of() { awk -v r="$1" '$1 == r { print $2; exit }' "$dir/server.log"; }
    "$venv/bin/python" infra/python/fuzz_seed.py "$url" "$(token_of service)" || status=1
    # Input generated from the document (every value within its schema, random otherwise):
    # every answer must be a documented status with a documented body, never a 5xx.
    local common=(--experimental=openapi-3.1 --base-url "$url" --hypothesis-seed 7
        --hypothesis-database none --hypothesis-suppress-health-check all --no-color)
    local positive=(--data-generation-method positive --hypothesis-max-examples 25 --checks all)
    # Input that breaks the document (a wrong type, a value out of bounds, a missing or unknown
    # field, ...), with infra/python/fuzz_hooks.py loaded: path ids held to the documented
    # examples (the seeded objects) so that the broken query and body reach the handlers, and
    # no control characters in headers (not HTTP). Every answer must still be documented and
    # never a 5xx, and must be a refusal (4xx): all checks run but the built-in
    # negative_data_rejection, which fuzz_hooks.negative_data_rejected replaces — the built-in
    # one fails on schemathesis 3.x's own "negative" values that go on the wire valid (the
    # string "1" for an integer parameter is sent as limit=1).
    local negative=(--data-generation-method negative --hypothesis-max-examples 5 --checks all
        --exclude-checks negative_data_rejection)
    run_st() {
        local name=$1
        shift
        echo "-- st run: $name"
        PYTHONPATH="$root/infra/python" "$venv/bin/st" run docs/openapi.yaml "${common[@]}" "$@" \
            >"$dir/st-$name.log" 2>&1 || status=1
        grep -a -E '^=+ .* in [0-9.]+s =+$|not_a_server_error' "$dir/st-$name.log" || tail -n 5 "$dir/st-$name.log"
    }
    for role in platform_admin practitioner patient org_admin org_coordinator org_reporter clinic_admin service; do
        token=$(token_of "$role")
        run_st "$role-valid" "${positive[@]}" --include-tag "$role" -H "Authorization: Bearer $token"
        SCHEMATHESIS_HOOKS=fuzz_hooks run_st "$role-invalid" "${negative[@]}" --include-tag "$role" \
            -H "Authorization: Bearer $token"
    done
    # No token at all (schemathesis would otherwise make one up): 401 everywhere but /health.
    run_st "no-token" "${positive[@]}" --exclude-checks ignored_auth \
        --generation-with-security-parameters false
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    fuzz_server_pid=""
    # Cases run (one not_a_server_error check each), per mode.
    cases_in() { cat "$@" | awk '$1 == "not_a_server_error" { n += $4 } END { print n + 0 }'; }
    echo "cases: $(cases_in "$dir"/st-*-valid.log "$dir"/st-no-token.log) positive," \
        "$(cases_in "$dir"/st-*-invalid.log) negative"
    mkdir -p "$test_logs"
    cp "$dir/server.log" "$test_logs/local-server-fuzz.log"
    if grep -aE 'panicked|"panic":true' "$dir/server.log"; then
        echo "the local server panicked" >&2
        status=1
    fi
    if [[ $status -ne 0 ]]; then
        for f in "$dir"/st-*.log; do
            if ! grep -aqE '^=+ [0-9]+ passed in [0-9.]+s =+$' "$f"; then
                echo "==== $f"
                cat "$f"
            fi
        done
    fi
    rm -rf "$dir"
    return "$status"
}

# Browser tests of the web console (step 6): Debian's Chromium at /usr/bin/chromium (apt, when
# missing), playwright-core from web/tests/package-lock.json, the local server's debug build.
# Fails if any of them cannot be had; never downloads a browser of its own.
# Installs a Debian package with apt-get (updating the lists if the first try fails).
apt_install() {
    echo "installing Debian's $1 with apt-get"
    # sudo (never prompting) only when not root; it would drop an exported variable.
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
    [[ $(id -u) -eq 0 ]] || apt=(sudo -n "${apt[@]}")
    "${apt[@]}" install -y -qq --no-install-recommends "$1" >/dev/null || {
        "${apt[@]}" update -qq &&
            "${apt[@]}" install -y -qq --no-install-recommends "$1" >/dev/null
    }
}

console_browser_tests() {
    local chromium=/usr/bin/chromium
    if [[ ! -x $chromium ]]; then
        apt_install chromium
    fi
    [[ -x $chromium ]] || {
        echo "$chromium is missing and could not be installed" >&2
        return 1
    }
    "$chromium" --version 2>/dev/null
    command -v node >/dev/null && command -v npm >/dev/null || {
        echo "node and npm are needed for the browser tests" >&2
        return 1
    }
    echo "node $(node --version)"
    cargo build --locked -q -p local-server
    (cd web/tests && npm ci --no-audit --no-fund --loglevel=error)
    mkdir -p "$test_logs"
    rm -f "$test_logs/local-server-console.log"
    (cd web/tests && LOCAL_SERVER_LOG="$test_logs/local-server-console.log" CHROMIUM=$chromium node --test --test-concurrency=1 --test-reporter=spec console.test.mjs)
}

# Searches every log steps 4 to 6 wrote: see step 7 above. A glob that matches nothing stays
# as it is, a file that does not exist, which the scan reports and fails on. The binary is the
# one step 4 built (cargo builds a package's binaries for its integration tests); `cargo run`
# would build it and the library again with another feature set.
scan_logs() {
    "${CARGO_TARGET_DIR:-$root/target}/debug/scan-test-logs" \
        "$test_logs"/integration-*.jsonl "$test_logs/local-server-fuzz.log" \
        "$test_logs/local-server-console.log"
}

step "python tools (.venv)" python_tools
step "cfn-lint template.yaml" lint_cfn
step "sam validate --lint template.yaml" lint_sam
step "cargo test --workspace --locked" cargo_tests
step "schemathesis against the local server" fuzz_api
step "web console in Chromium (playwright-core)" console_browser_tests
step "clean logs (steps 4 to 6)" scan_logs
step "benchmark harness, tiny volume" bash infra/bench.sh --tiny
# The smoke test (step 9) speaks HTTP with curl (Debian's, installed with apt when missing).
smoke_test() {
    command -v curl >/dev/null || apt_install curl
    bash infra/smoke.sh --local
}

step "smoke test against the local server" smoke_test

# The arm64 artifacts (step 10): see the header. qemu-user and the AArch64 glibc come from
# Debian's packages, installed with apt when missing.
arm64_artifacts() {
    bash infra/build-arm64.sh --profile dev health org-report-email-job
    command -v qemu-aarch64-static >/dev/null || apt_install qemu-user-static
    [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] || apt_install libc6-arm64-cross
    local target=${CARGO_TARGET_DIR:-$root/target}
    "$target/debug/bench" --no-exports --runs 1 \
        --functions-dir "$target/lambda" --functions health,org-report-email-job \
        --emulator qemu-aarch64-static --emulator-sysroot /usr/aarch64-linux-gnu \
        --out "$target/bench/arm64.md"
}

step "arm64 artifacts (cargo-lambda, zig), started under qemu-user" arm64_artifacts

printf '\n==== all passed in %ds ====\n' "$((SECONDS - started_all))"
