# Shared helpers for scripts/docker/*.sh (sourced, not executed).
# shellcheck shell=bash

repo=${repo:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# Outside the work tree by default, so CI runs on the same machine (fresh clones) reuse it.
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/source-zendesk-chat/venv-airbyte}
SANDBOX_PORT=${SANDBOX_PORT:-18089}
SANDBOX_CHATS=${SANDBOX_CHATS:-120}
SANDBOX_SEED=${SANDBOX_SEED:-42}
SANDBOX_LIFETIME=${SANDBOX_LIFETIME:-2400}

# Python venv with the pinned airbyte-cdk + protocol models (integration_tests/requirements.txt).
# Reused when its requirements stamp matches; PIP_FIND_LINKS etc. are honoured as set.
ensure_venv() {
    local stamp="$VENV/.requirements.sha256" want
    want=$(sha256sum "$repo/integration_tests/requirements.txt" | cut -d' ' -f1)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
    echo "[venv] creating $VENV (airbyte-cdk, protocol models)" >&2
    rm -rf "$VENV"; mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$repo/integration_tests/requirements.txt"
    echo "$want" >"$stamp"
}

# Start the fake Zendesk Chat API on 127.0.0.1:$SANDBOX_PORT unless something already answers there.
# Sets SANDBOX_PID when this shell started it (stop_sandbox ends exactly that process).
SANDBOX_PID=""
start_sandbox() {
    local bin=${SANDBOX_BIN:-$repo/target/release/zendesk-chat-sandbox} log=${1:-/dev/null}
    if sandbox_up; then echo "[sandbox] already listening on 127.0.0.1:$SANDBOX_PORT; reusing it" >&2; return 0; fi
    [ -x "$bin" ] || { echo "[sandbox] binary not found: $bin (set SANDBOX_BIN)" >&2; return 1; }
    "$bin" --port "$SANDBOX_PORT" --chats "$SANDBOX_CHATS" --seed "$SANDBOX_SEED" \
        --max-lifetime-secs "$SANDBOX_LIFETIME" >"$log" 2>&1 </dev/null &
    SANDBOX_PID=$!
    for _ in $(seq 1 300); do
        if grep -q "listening on http://127.0.0.1:$SANDBOX_PORT" "$log" 2>/dev/null; then
            echo "[sandbox] pid $SANDBOX_PID listening on 127.0.0.1:$SANDBOX_PORT" >&2; return 0
        fi
        if ! kill -0 "$SANDBOX_PID" 2>/dev/null; then
            echo "[sandbox] exited early; log:" >&2; tail -n 20 "$log" >&2; SANDBOX_PID=""; return 1
        fi
        sleep 0.1
    done
    echo "[sandbox] not ready after 30s" >&2; stop_sandbox; return 1
}

sandbox_up() {
    (exec 3<>"/dev/tcp/127.0.0.1/$SANDBOX_PORT") 2>/dev/null
}

stop_sandbox() {
    if [ -n "$SANDBOX_PID" ]; then
        kill "$SANDBOX_PID" 2>/dev/null || true
        wait "$SANDBOX_PID" 2>/dev/null || true
        SANDBOX_PID=""
    fi
}
