#!/usr/bin/env bash
# Build the connector image and run every Docker-level test against it, with the fake API.
#
#   scripts/docker/run-airbyte-tests.sh
#
# Steps (each timed; a summary line per suite at the end; exit non-zero on any failure):
#   metadata       scripts/docker/check-metadata.py (versions agree: Cargo.toml, metadata.yaml, Dockerfile)
#   engine         scripts/docker/setup-engine.sh (installs/starts dockerd when needed; fails without one)
#   image          scripts/docker/build-image.sh (stand-in base image if needed, docker build, size)
#   venv           .venv-airbyte with the pinned airbyte-cdk / protocol models
#   sandbox        the fake Zendesk Chat API on 127.0.0.1:$SANDBOX_PORT (bounded lifetime)
#   test-image     scripts/docker/test-image.sh (platform wrapper, uid 1000, caps dropped, protocol)
#   airbyte-cdk    airbyte-cdk's DockerConnectorTestSuite (integration_tests/test_airbyte_standards.py)
#   cat-checks     CAT's checks re-created on the image's output (integration_tests/test_cat_checks.py)
#   rate-status    the RATE_LIMITED stream status during a Retry-After wait, validated with the official
#                  models (integration_tests/test_rate_limit_status.py)
#
# Env: SANDBOX_BIN (default target/release/zendesk-chat-sandbox), SANDBOX_PORT (18089, must match
#      integration_tests/config.json), IMAGE (source-zendesk-chat:dev), SKIP_BUILD=1 (reuse the image),
#      WORK (job-local scratch dir, default target/airbyte-tests).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
# shellcheck source=lib.sh
. "$here/lib.sh"

IMAGE=${IMAGE:-source-zendesk-chat:dev}
WORK=${WORK:-$repo/target/airbyte-tests}
export IMAGE CONNECTOR_IMAGE=$IMAGE

summary=()
status=0
record() {  # name, rc, seconds, detail
    local verdict=ok
    [ "$2" = 0 ] || { verdict=FAILED; status=1; }
    summary+=("$(printf '%-12s %-6s %5ss  %s' "$1" "$verdict" "$3" "$4")")
}
finish() {
    stop_sandbox
    echo
    echo "== Docker / Airbyte test summary =="
    printf '%s\n' "${summary[@]}"
    [ "$status" = 0 ] && echo "docker-airbyte-tests: all suites passed" || echo "docker-airbyte-tests: FAILED"
    exit "$status"
}
trap finish EXIT
step_start() { echo; echo "== $1 =="; t_step=$(date +%s); }
elapsed() { echo $(( $(date +%s) - t_step )); }

rm -rf "$WORK"; mkdir -p "$WORK/tmp"

step_start "metadata"
out=$(python3 "$here/check-metadata.py" "$repo" 2>&1); rc=$?; echo "$out"
record metadata $rc "$(elapsed)" "$(echo "$out" | tail -n 1)"

step_start "engine"
# shellcheck source=setup-engine.sh
if . "$here/setup-engine.sh"; then
    record engine 0 "$(elapsed)" "$("$DOCKER" version --format 'docker engine {{.Server.Version}}')"
else
    record engine 1 "$(elapsed)" "no working Docker engine: nothing below can run"
    exit 1
fi
export REAL_DOCKER=$DOCKER

step_start "image"
if [ "${SKIP_BUILD:-0}" = 1 ] && "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    record image 0 "$(elapsed)" "reused $IMAGE (SKIP_BUILD=1)"
else
    BUILD_LOG="$WORK/docker-build.log" bash "$here/build-image.sh" >"$WORK/build-image.out" 2>"$WORK/build-image.err"; rc=$?
    cat "$WORK/build-image.err" "$WORK/build-image.out"
    [ $rc = 0 ] || tail -n 40 "$WORK/docker-build.log"
    record image $rc "$(elapsed)" "$(tail -n 1 "$WORK/build-image.out" 2>/dev/null)"
    [ $rc = 0 ] || exit 1
fi

step_start "venv"
ensure_venv; rc=$?
record venv $rc "$(elapsed)" "airbyte-cdk $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("airbyte-cdk"))' 2>/dev/null)"
[ $rc = 0 ] || exit 1

step_start "sandbox"
start_sandbox "$WORK/sandbox.log"; rc=$?
record sandbox $rc "$(elapsed)" "fake API on 127.0.0.1:$SANDBOX_PORT (${SANDBOX_BIN:-target/release/zendesk-chat-sandbox})"
[ $rc = 0 ] || exit 1

step_start "test-image"
OUT="$WORK/test-image" PYTHON="$VENV/bin/python" bash "$here/test-image.sh" 2>&1 | tee "$WORK/test-image.log"
rc=${PIPESTATUS[0]}
record test-image "$rc" "$(elapsed)" "$(grep -E '^test-image: ' "$WORK/test-image.log" | tail -n 1 | sed 's/^test-image: //')"

# pytest suites: the docker shim on PATH, a job-local TMPDIR (the CDK leaks temp configs on failure).
run_pytest() {  # name, file, extra args...
    local name=$1 file=$2; shift 2
    step_start "$name"
    TMPDIR="$WORK/tmp" PATH="$repo/tools/docker-hostnet:$PATH" \
        "$VENV/bin/python" -m pytest -p airbyte_cdk.test.standard_tests.pytest_hooks -p no:cacheprovider \
        -o markers="image_tests: airbyte-cdk Docker image tests" \
        "$file" --connector-image "$IMAGE" -rs -v --junitxml "$WORK/$name.junit.xml" "$@" \
        2>&1 | tee "$WORK/$name.log"
    local rc=${PIPESTATUS[0]}
    # Skips must have a written reason and must never come from a missing docker.
    if grep -qiE 'SKIPPED.*docker CLI not found' "$WORK/$name.log"; then
        echo "$name: image tests were skipped because docker was not found" >&2; rc=1
    fi
    record "$name" "$rc" "$(elapsed)" "$(grep -E '^=+ .*(passed|failed|error|skipped).* in [0-9.]+s' "$WORK/$name.log" | tail -n 1 | tr -d '=' | sed 's/^ *//')"
}
# --read-scenarios: the stems of every config under basic_read/full_refresh in acceptance-test-config.yml
# (the documented `all` is broken in airbyte-cdk 7.39.1).
run_pytest airbyte-cdk integration_tests/test_airbyte_standards.py --read-from-streams=all \
    --read-scenarios="${READ_SCENARIOS:-config,config_oauth}"
run_pytest cat-checks integration_tests/test_cat_checks.py
# The rate-limit status against a throttling loopback API, on the image (runs without Docker too:
# see the file's docstring).
run_pytest rate-status integration_tests/test_rate_limit_status.py
