#!/usr/bin/env bash
# Make sure a Docker engine answers, installing and starting one if needed.
#
# On the project's CI/dev machines only the Docker *client* is preinstalled and no base image can be
# pulled. Debian's docker.io package gives a working engine with the vfs storage driver and the
# legacy builder. The engine is started with no bridge network and no iptables rules, so containers
# only ever use `--network host` (loopback) or `--network none`.
#
# Usage: source it (`. scripts/docker/setup-engine.sh`) to get $DOCKER (the client to use), or run
# it (exit 0 when the engine works). Honours DOCKERD_LOG (default /var/log/dockerd-ci.log).
# When sourced it leaves the caller's shell options alone and returns non-zero on failure.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then set -euo pipefail; fi

_log() { printf '[setup-engine] %s\n' "$*" >&2; }

# Prefer the client that ships with the engine package (same API version).
pick_client() {
    if [ -n "${DOCKER:-}" ]; then return; fi
    if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker || true); fi
}

engine_ok() { [ -n "${DOCKER:-}" ] && "$DOCKER" info >/dev/null 2>&1; }

ensure_engine() {
    pick_client
    if engine_ok; then return 0; fi
    if ! command -v dockerd >/dev/null 2>&1; then
        _log "installing docker.io from Debian"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || return 1
        apt-get install -y -qq --no-install-recommends docker.io >/dev/null || return 1
        DOCKER=""; pick_client
    fi
    if [ -z "${DOCKER:-}" ]; then _log "no docker client found"; return 1; fi
    local log=${DOCKERD_LOG:-/var/log/dockerd-ci.log}
    _log "starting dockerd (vfs, no bridge, no iptables); log: $log"
    # setsid + nohup: the engine outlives this script (it is shared by later steps and runs).
    setsid nohup dockerd --storage-driver=vfs --bridge=none --iptables=false --ip-masq=false \
        >"$log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 60); do
        if engine_ok; then _log "engine ready after ${i}s"; return 0; fi
        sleep 1
    done
    _log "dockerd did not come up within 60s; last log lines:"
    tail -n 20 "$log" >&2 || true
    return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ensure_engine
    "$DOCKER" version --format 'docker engine {{.Server.Version}} (client {{.Client.Version}})'
else
    ensure_engine && export DOCKER
fi
