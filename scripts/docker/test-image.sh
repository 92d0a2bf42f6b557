#!/usr/bin/env bash
# Run the connector image the way the Airbyte platform does, and check what it produces.
#
#   scripts/docker/test-image.sh        # needs the image (build-image.sh) and the fake API on :18089
#
# Static checks on the image (ENTRYPOINT == $AIRBYTE_ENTRYPOINT, labels == metadata.yaml/Cargo.toml,
# uid 1000, amd64, size <= 15 MB, sh/sleep/kill on PATH, writable /airbyte), then each command
# through the platform's wrapper: `sh -c` evaluating "$AIRBYTE_ENTRYPOINT <command> ..." in the
# background, a watcher polling with sleep/kill, `wait`, exit code written to exitCode.txt - as
# uid 1000 with --cap-drop ALL and no-new-privileges, inputs mounted read-only, host network only.
# Every stdout line is validated by integration_tests/validate_messages.py (official pdv2 models).
#
# Env: IMAGE (source-zendesk-chat:dev), CONFIG, INVALID_CONFIG, CATALOG, OUT (job-local output dir),
#      START_SANDBOX=1 to start the fake API here (SANDBOX_BIN, SANDBOX_PORT), MAX_IMAGE_BYTES.
set -uo pipefail
# The container scripts are single-quoted on purpose: they expand inside the container.
# shellcheck disable=SC2016

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=setup-engine.sh
. "$here/setup-engine.sh" || { echo "test-image: no Docker engine" >&2; exit 1; }

IMAGE=${IMAGE:-source-zendesk-chat:dev}
CONFIG=${CONFIG:-$repo/integration_tests/config.json}
INVALID_CONFIG=${INVALID_CONFIG:-$repo/integration_tests/invalid_config.json}
CATALOG=${CATALOG:-$repo/integration_tests/configured_catalog.json}
OUT=${OUT:-$repo/target/docker-test}
MAX_IMAGE_BYTES=${MAX_IMAGE_BYTES:-15000000}
PYTHON=${PYTHON:-$VENV/bin/python}
VALIDATE="$repo/integration_tests/validate_messages.py"

passed=0; failed=0; failures=()
ok()   { passed=$((passed + 1)); printf 'PASS %s\n' "$1"; }
bad()  { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL %s: %s\n' "$1" "$2"; }

rm -rf "$OUT"; mkdir -p "$OUT"
if [ "${START_SANDBOX:-0}" = 1 ]; then
    start_sandbox "$OUT/sandbox.log" || exit 1
    trap stop_sandbox EXIT
fi
[ -x "$PYTHON" ] || ensure_venv

# ---------------------------------------------------------------------------------------------
# Static checks on the image.
inspect() { "$DOCKER" image inspect --format "$1" "$IMAGE"; }
if ! inspect '{{.Id}}' >/dev/null 2>&1; then echo "test-image: image $IMAGE not found" >&2; exit 1; fi

entrypoint=$(inspect '{{join .Config.Entrypoint " "}}')
airbyte_ep=$(inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^AIRBYTE_ENTRYPOINT=//p')
if [ -n "$airbyte_ep" ] && [ "$airbyte_ep" = "$entrypoint" ] && [ "${airbyte_ep#/}" != "$airbyte_ep" ]; then
    ok "image: AIRBYTE_ENTRYPOINT == ENTRYPOINT ($entrypoint), absolute"
else
    bad "image: entrypoint" "AIRBYTE_ENTRYPOINT='$airbyte_ep' ENTRYPOINT='$entrypoint'"
fi

cargo_version=$(awk -F'"' '/^\[package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{print $2; exit}' "$repo/Cargo.toml")
meta_repo=$(sed -n 's/^  dockerRepository: *//p' "$repo/metadata.yaml" | tr -d '"'"'")
meta_tag=$(sed -n 's/^  dockerImageTag: *//p' "$repo/metadata.yaml" | tr -d '"'"'")
label_name=$(inspect '{{index .Config.Labels "io.airbyte.name"}}')
label_version=$(inspect '{{index .Config.Labels "io.airbyte.version"}}')
if [ "$label_name" = "$meta_repo" ] && [ "$label_name" = "airbyte/source-zendesk-chat" ]; then
    ok "image: label io.airbyte.name=$label_name == metadata.yaml dockerRepository"
else
    bad "image: label io.airbyte.name" "'$label_name' vs metadata '$meta_repo'"
fi
if [ "$label_version" = "$cargo_version" ] && [ "$label_version" = "$meta_tag" ]; then
    ok "image: label io.airbyte.version=$label_version == Cargo.toml == metadata.yaml dockerImageTag"
else
    bad "image: label io.airbyte.version" "'$label_version' vs Cargo '$cargo_version' vs metadata '$meta_tag'"
fi

user=$(inspect '{{.Config.User}}')
arch=$(inspect '{{.Os}}/{{.Architecture}}')
if [ "$user" = "1000:1000" ]; then ok "image: USER $user"; else bad "image: USER" "'$user', expected 1000:1000"; fi
if [ "$arch" = "linux/amd64" ]; then ok "image: platform $arch"; else bad "image: platform" "$arch"; fi

size=$(inspect '{{.Size}}')
if [ "$size" -le "$MAX_IMAGE_BYTES" ]; then
    ok "image: size $size bytes <= $MAX_IMAGE_BYTES"
else
    bad "image: size" "$size bytes > $MAX_IMAGE_BYTES"
fi

# Tools the platform's wrapper needs, the default user, a writable /airbyte and the CA bundle.
probe=$("$DOCKER" run --rm --network none --cap-drop ALL --security-opt no-new-privileges \
    --entrypoint sh "$IMAGE" -c '
        for t in sh sleep kill echo cat; do command -v "$t" >/dev/null || echo "missing:$t"; done
        echo "uid:$(id -u) gid:$(id -g) user:$(id -un)"
        touch /airbyte/.w && echo "airbyte:writable"
        [ -s /etc/ssl/certs/ca-certificates.crt ] && echo "ca:present"
        cd /tmp && touch x && echo "tmp:writable"' 2>&1)
for want in "uid:1000 gid:1000 user:airbyte" "airbyte:writable" "ca:present" "tmp:writable"; do
    case "$probe" in *"$want"*) ok "image: $want" ;; *) bad "image: $want" "$probe" ;; esac
done
case "$probe" in *missing:*) bad "image: wrapper tools" "$probe" ;; *) ok "image: sh sleep kill echo cat on PATH" ;; esac

# ---------------------------------------------------------------------------------------------
# The platform's wrapper (airbyte-platform ContainerCommandFactory), one command per container.
# $1 = case name, $2 = connector arguments, $3 = "read" for the replication-pod form.
# Inputs: $OUT/<case>/source (read-only at /source); outputs in $OUT/<case>/config (=/config, rw).
run_wrapped() {
    local name=$1 args=$2 kind=${3:-job} dir="$OUT/$1" script
    mkdir -p "$dir/source" "$dir/config"
    chown -R 1000:1000 "$dir/config"
    if [ "$kind" = read ]; then
        script='
if [ -z "$AIRBYTE_ENTRYPOINT" ]; then echo "Entrypoint was not set! AIRBYTE_ENTRYPOINT must be set in the container."; exit 127
else echo "Using AIRBYTE_ENTRYPOINT: $AIRBYTE_ENTRYPOINT"; fi
if [ ! -f /source/inputState.json ]; then
  (eval "$AIRBYTE_ENTRYPOINT read --config /source/connectorConfig.json --catalog /source/catalog.json" 2> stderr > stdout) &
else
  (eval "$AIRBYTE_ENTRYPOINT read --config /source/connectorConfig.json --catalog /source/catalog.json --state /source/inputState.json" 2> stderr > stdout) &
fi'
    else
        script='
if [ -z "$AIRBYTE_ENTRYPOINT" ]; then echo "Entrypoint was not set! AIRBYTE_ENTRYPOINT must be set in the container."; exit 127
else echo "Using AIRBYTE_ENTRYPOINT: $AIRBYTE_ENTRYPOINT"; fi
(eval "$AIRBYTE_ENTRYPOINT '"$args"'" 2> stderr > jobOutput.json) &'
    fi
    script="$script"'
CHILD_PID=$!
(while true; do if [ -f TERMINATED ]; then kill $CHILD_PID; exit 0; fi; if ! kill -0 $CHILD_PID 2>/dev/null; then exit 0; fi; sleep 1; done) &
wait $CHILD_PID
EXIT_CODE=$?
echo $EXIT_CODE > exitCode.txt
exit $EXIT_CODE'
    local mounts=()
    for f in "$dir"/source/*; do [ -e "$f" ] && mounts+=(-v "$f:/source/$(basename "$f"):ro"); done
    "$DOCKER" run --rm --network host --user 1000:1000 --cap-drop ALL --security-opt no-new-privileges \
        -e "${WRAPPER_ENV:-DEPLOYMENT_MODE=OSS}" \
        "${mounts[@]}" -v "$dir/config:/config" -w /config \
        --entrypoint sh "$IMAGE" -c "$script" >"$dir/wrapper.log" 2>&1
    echo $?
}

# Check a case: exit code of the container and exitCode.txt, then validate the output.
# $1 name, $2 expected exit code ("0" or "nonzero"), $3.. validate_messages.py arguments.
check_case() {
    local name=$1 expect=$2 code=$3; shift 3
    local dir="$OUT/$name" out file_code
    out=$dir/config/jobOutput.json; [ -f "$dir/config/stdout" ] && out=$dir/config/stdout
    file_code=$(cat "$dir/config/exitCode.txt" 2>/dev/null || echo missing)
    if [ "$file_code" != "$code" ]; then
        bad "$name" "container exit $code but exitCode.txt '$file_code' ($(tail -n 3 "$dir/wrapper.log" | tr '\n' ' '))"; return
    fi
    if [ "$expect" = 0 ] && [ "$code" != 0 ]; then
        bad "$name" "exit code $code; stderr: $(tail -n 5 "$dir/config/stderr" 2>/dev/null | tr '\n' ' ')"; return
    fi
    if [ "$expect" = nonzero ] && [ "$code" = 0 ]; then bad "$name" "exit code 0, expected non-zero"; return; fi
    if ! grep -q '^Using AIRBYTE_ENTRYPOINT: /usr/local/bin/source-zendesk-chat$' "$dir/wrapper.log"; then
        bad "$name" "wrapper did not report AIRBYTE_ENTRYPOINT"; return
    fi
    local verdict
    if verdict=$("$PYTHON" "$VALIDATE" "$out" --stderr "$dir/config/stderr" "$@" 2>&1); then
        ok "$name (exit $code; ${verdict#*ok: })"
    else
        bad "$name" "$verdict"
    fi
}

cp "$CONFIG" "$OUT/config.json"
# spec
mkdir -p "$OUT/spec/source"
code=$(run_wrapped spec "spec"); check_case spec 0 "$code" --command spec

# check (valid, then invalid credentials: FAILED status with exit 0)
mkdir -p "$OUT/check/source"; cp "$CONFIG" "$OUT/check/source/connectorConfig.json"
code=$(run_wrapped check "check --config /source/connectorConfig.json")
check_case check 0 "$code" --command check --expect-status SUCCEEDED --config "$CONFIG"
if [ -f "$INVALID_CONFIG" ]; then
    mkdir -p "$OUT/check-invalid/source"; cp "$INVALID_CONFIG" "$OUT/check-invalid/source/connectorConfig.json"
    code=$(run_wrapped check-invalid "check --config /source/connectorConfig.json")
    check_case check-invalid 0 "$code" --command check --expect-status FAILED --config "$INVALID_CONFIG" --allow-errors
fi

# discover
mkdir -p "$OUT/discover/source"; cp "$CONFIG" "$OUT/discover/source/connectorConfig.json"
code=$(run_wrapped discover "discover --config /source/connectorConfig.json")
check_case discover 0 "$code" --command discover --config "$CONFIG"

# read (first sync: no inputState.json), then a second sync from the first one's state
mkdir -p "$OUT/read/source"
cp "$CONFIG" "$OUT/read/source/connectorConfig.json"; cp "$CATALOG" "$OUT/read/source/catalog.json"
code=$(run_wrapped read "" read)
check_case read 0 "$code" --command read --catalog "$CATALOG" --config "$CONFIG" --min-records 1
if [ "$code" = 0 ]; then
    mkdir -p "$OUT/read-state/source"
    cp "$CONFIG" "$OUT/read-state/source/connectorConfig.json"; cp "$CATALOG" "$OUT/read-state/source/catalog.json"
    "$PYTHON" - "$OUT/read/config/stdout" "$OUT/read-state/source/inputState.json" <<'PY'
import json, sys
last = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("type") == "STATE" and m["state"].get("type") == "STREAM":
        s = m["state"]["stream"]
        last[s["stream_descriptor"]["name"]] = s
json.dump([{"type": "STREAM", "stream": s} for s in last.values()], open(sys.argv[2], "w"))
PY
    code=$(run_wrapped read-state "" read)
    check_case read-state 0 "$code" --command read --catalog "$CATALOG" --config "$CONFIG"
else
    bad "read-state" "skipped because the first read failed"
fi

# The platform's watcher stops the child with `kill` when TERMINATED appears (as uid 1000, no caps).
mkdir -p "$OUT/terminate/source" "$OUT/terminate/config"; chown 1000:1000 "$OUT/terminate/config"
code=$("$DOCKER" run --rm --network none --user 1000:1000 --cap-drop ALL --security-opt no-new-privileges \
    -v "$OUT/terminate/config:/config" -w /config -e AIRBYTE_ENTRYPOINT="sleep 60" --entrypoint sh "$IMAGE" -c '
(eval "$AIRBYTE_ENTRYPOINT") &
CHILD_PID=$!
(while true; do if [ -f TERMINATED ]; then kill $CHILD_PID; exit 0; fi; sleep 1; done) &
sleep 1; touch TERMINATED
wait $CHILD_PID; EXIT_CODE=$?; echo $EXIT_CODE > exitCode.txt; exit $EXIT_CODE' >/dev/null 2>&1; echo $?)
if [ "$code" = 143 ] && [ "$(cat "$OUT/terminate/config/exitCode.txt" 2>/dev/null)" = 143 ]; then
    ok "terminate: watcher's kill stops the child (exit 143)"
else
    bad "terminate" "exit $code, exitCode.txt $(cat "$OUT/terminate/config/exitCode.txt" 2>/dev/null)"
fi

echo "test-image: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
    printf '  failed: %s\n' "${failures[@]}"
    exit 1
fi
