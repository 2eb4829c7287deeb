#!/usr/bin/env bash
# The project's one test command (CI runs it through .ci/run).
#
# Needs only the Rust toolchain and Python 3 with venv/pip. Steps:
#   1. python tools: .venv at the repo root with moto (the tests' AWS emulator), cfn-lint and
#      the SAM CLI, installed once and again only when a requirements file changes;
#   2. cfn-lint on template.yaml (any error or warning fails);
#   3. sam validate --lint on template.yaml (same);
#   4. cargo test for the whole workspace, with .venv/bin on PATH so the Rust tests' moto
#      harness finds moto_server.
# Set PYTHON to pick the interpreter that creates the venv (default python3).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
venv="$root/.venv"
python=${PYTHON:-python3}
requirements=(infra/python/requirements-moto.txt infra/python/requirements-lint.txt)
# Holds the hash of the requirement files the venv was last installed from.
stamp="$venv/.requirements.sha256"

current_step=""
started_all=$SECONDS

on_exit() {
    local rc=$?
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
    [[ -x $venv/bin/moto_server && -x $venv/bin/cfn-lint && -x $venv/bin/sam ]]
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
        echo "up to date (moto_server, cfn-lint, sam in .venv/bin)"
        return
    fi
    echo "installing ${requirements[*]} into .venv (a few minutes the first time)"
    rm -f "$stamp"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet \
        -r "${requirements[0]}" -r "${requirements[1]}"
    tools_present || {
        echo "moto_server, cfn-lint or sam is still missing from .venv/bin" >&2
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
    PATH="$venv/bin:$PATH" cargo test --workspace --locked
}

step "python tools (.venv)" python_tools
step "cfn-lint template.yaml" lint_cfn
step "sam validate --lint template.yaml" lint_sam
step "cargo test --workspace --locked" cargo_tests

printf '\n==== all passed in %ds ====\n' "$((SECONDS - started_all))"
