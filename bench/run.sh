#!/usr/bin/env bash
# End-to-end benchmark: this connector vs the certified Python connector
# (airbyte-source-zendesk-chat==1.1.1) against the fake Zendesk Chat API served over TLS as
# https://bench.zendesk.com. See bench/README.md.
#
# Needs root: it binds 127.0.0.1:443 and adds "127.0.0.1 bench.zendesk.com" to /etc/hosts
# (removed again at exit if this script added it). Network traffic goes only to 127.0.0.1 and to
# the package registries (crates.io via cargo, PyPI via pip, Debian via apt-get).
#
# Knobs (environment): CHATS (100000), REPEAT (3), SKIP_MEMORY=1, SKIP_BACKFILL=1, SKIP_PEER=1,
# MEM_SMALL (10000), MEM_LARGE (1000000), BACKFILL_CHATS (250000), BACKFILL_LATENCY_MS (1000),
# BACKFILL_TIMEOUT (900 s per run), SPEC_RUNS (50), PEER_SPEC_RUNS (10), RUN_TIMEOUT (1800 s),
# SKIP_FULL=1 (layouts only), SKIP_LAYOUTS=1, LAYOUTS (even,last5,first5,bursts,resume),
# LAYOUT_CHATS (60000), LAYOUT_RPM_LIMIT (200).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/bench/out"
HOST=bench.zendesk.com
PEER_PKG=airbyte-source-zendesk-chat==1.1.1
HOSTS_TAG="# added by bench/run.sh"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (binds port 443 and edits /etc/hosts)"
mkdir -p "$OUT"
cd "$ROOT"

# --- 1. build ------------------------------------------------------------------------------
log "building release binaries"
cargo build --release --locked -p source-zendesk-chat -p zendesk-chat-sandbox
RUST_BIN="$ROOT/target/release/source-zendesk-chat"
SANDBOX_BIN="$ROOT/target/release/zendesk-chat-sandbox"
[ -x "$RUST_BIN" ] && [ -x "$SANDBOX_BIN" ] || die "release binaries missing under target/release"

# --- 2. tools: GNU time (required), hyperfine (optional) -----------------------------------
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}
if ! /usr/bin/time -v true >/dev/null 2>&1; then
    log "installing GNU time"
    apt_install time || die "cannot install GNU time (apt-get install time)"
fi
if ! command -v hyperfine >/dev/null 2>&1; then
    log "installing hyperfine (optional)"
    apt_install hyperfine || log "hyperfine not available; spec timing falls back to a timed loop"
fi
command -v openssl >/dev/null 2>&1 || apt_install openssl || die "openssl missing"

# --- 3. throwaway CA + server certificate for bench.zendesk.com ----------------------------
TLS="$OUT/tls"
mkdir -p "$TLS"
if [ ! -s "$TLS/server.pem" ] || [ ! -s "$TLS/ca.pem" ] ||
    ! openssl x509 -checkend 86400 -noout -in "$TLS/server.pem" >/dev/null 2>&1 ||
    ! openssl verify -CAfile "$TLS/ca.pem" "$TLS/server.pem" >/dev/null 2>&1; then
    log "creating a throwaway CA and a certificate for $HOST"
    rm -f "$TLS"/*
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$TLS/ca.key" -out "$TLS/ca.pem" -days 30 -subj "/CN=bench throwaway CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        >/dev/null 2>&1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=$HOST" >/dev/null 2>&1
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" "subjectAltName=DNS:$HOST" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$TLS/server.ext"
    openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
        -CAcreateserial -out "$TLS/server.pem" -days 30 -extfile "$TLS/server.ext" >/dev/null 2>&1
    openssl verify -CAfile "$TLS/ca.pem" "$TLS/server.pem" >/dev/null || die "certificate generation failed"
fi

# --- 4. the peer (certified Python connector) in its own venv ------------------------------
VENV="$OUT/venv-peer"
PEER_BIN="$VENV/bin/source-zendesk-chat"
if [ "${SKIP_PEER:-0}" != 1 ]; then
    PY=$(command -v python3.11 || command -v python3) || die "python3 missing"
    have=$("$VENV/bin/pip" show airbyte-source-zendesk-chat 2>/dev/null || true)
    if [ ! -x "$PEER_BIN" ] || ! grep -qx 'Version: 1.1.1' <<<"$have"; then
        log "installing $PEER_PKG into $VENV (a few minutes)"
        rm -rf "$VENV"
        "$PY" -m venv "$VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check "$PEER_PKG"
    fi
    # The CDK sends prepared requests with Session.send(), which ignores REQUESTS_CA_BUNDLE, so
    # the throwaway CA goes into this venv's own certifi bundle (rebuilt from a pristine copy).
    CERTIFI=$("$VENV/bin/python" -c 'import certifi; print(certifi.where())')
    [ -f "$CERTIFI.orig" ] || cp "$CERTIFI" "$CERTIFI.orig"
    cat "$CERTIFI.orig" "$TLS/ca.pem" >"$CERTIFI"
fi

# --- 5. /etc/hosts entry (idempotent; removed at exit only if added here) -----------------
ADDED_HOSTS=0
cleanup() {
    if [ "$ADDED_HOSTS" = 1 ]; then
        # Rewrite in place (no rename): /etc/hosts is often a bind mount in containers.
        grep -vF "$HOSTS_TAG" /etc/hosts >"$OUT/hosts.tmp" || true
        cat "$OUT/hosts.tmp" >/etc/hosts
        rm -f "$OUT/hosts.tmp"
        log "removed the $HOST entry from /etc/hosts"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! grep -Eq "^[[:space:]]*127\.0\.0\.1[[:space:]]+([^#]*[[:space:]])?${HOST//./\\.}([[:space:]]|#|$)" /etc/hosts; then
    printf '127.0.0.1 %s %s\n' "$HOST" "$HOSTS_TAG" >>/etc/hosts
    ADDED_HOSTS=1
    log "added '127.0.0.1 $HOST' to /etc/hosts"
fi
getent hosts "$HOST" | grep -q '^127\.0\.0\.1' || die "$HOST does not resolve to 127.0.0.1"

# --- 6. run --------------------------------------------------------------------------------
export BENCH_OUT="$OUT" BENCH_HOST="$HOST" BENCH_RUST_BIN="$RUST_BIN" BENCH_SANDBOX_BIN="$SANDBOX_BIN" \
    BENCH_PEER_BIN="$PEER_BIN" BENCH_CA="$TLS/ca.pem" BENCH_CERT="$TLS/server.pem" BENCH_KEY="$TLS/server.key"
python3 "$ROOT/bench/bench.py"
