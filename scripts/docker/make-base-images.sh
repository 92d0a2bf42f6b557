#!/usr/bin/env bash
# Create local stand-ins for the base images the Dockerfile names, when they cannot be pulled.
#
# The project's Dockerfile is the ordinary one (FROM rust:1.95-slim-bookworm ... FROM scratch). On a
# machine with Docker Hub access `docker build` pulls the real image and this script is not needed.
# Here no registry but Debian's / crates.io / PyPI is reachable, so we build an equivalent of the
# official `rust:1.95-slim-bookworm` image from Debian packages plus the host's rustup toolchain and
# `docker import` it under the exact same name. `scratch` needs nothing.
#
# The stand-in mirrors the official image: Debian bookworm + ca-certificates, gcc, libc6-dev;
# RUSTUP_HOME=/usr/local/rustup, CARGO_HOME=/usr/local/cargo, cargo/rustc (rustup proxies) on PATH
# from /usr/local/cargo/bin, toolchain 1.95.0-x86_64-unknown-linux-gnu as the default.
#
# Cached: nothing is done when `docker image inspect` finds the image. FORCE=1 rebuilds it.
# Env: DOCKER (client), RUST_IMAGE (default rust:1.95-slim-bookworm), DEBIAN_MIRROR,
#      HOST_RUSTUP_HOME (default ~/.rustup), HOST_RUSTUP_BIN (default ~/.cargo/bin/rustup).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup-engine.sh
. "$here/setup-engine.sh"

RUST_IMAGE=${RUST_IMAGE:-rust:1.95-slim-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
HOST_RUSTUP_HOME=${HOST_RUSTUP_HOME:-$HOME/.rustup}
HOST_RUSTUP_BIN=${HOST_RUSTUP_BIN:-$HOME/.cargo/bin/rustup}

log() { printf '[make-base-images] %s\n' "$*" >&2; }
now() { date +%s; }

# rust:<version>-slim-bookworm -> <version> (e.g. 1.95 or 1.95.0)
want=${RUST_IMAGE#rust:}
want=${want%%-*}

if [ "${FORCE:-0}" != 1 ] && "$DOCKER" image inspect "$RUST_IMAGE" >/dev/null 2>&1; then
    log "$RUST_IMAGE already present (cached); nothing to do"
    exit 0
fi

# Locate a host toolchain whose rustc is that version (1.95 matches 1.95.x).
host_tc=""
for cand in "$HOST_RUSTUP_HOME"/toolchains/*-x86_64-unknown-linux-gnu; do
    v=$("$cand/bin/rustc" --version 2>/dev/null | awk '{print $2}') || continue
    case "$v" in "$want"|"$want".*) host_tc=$cand; rust_version=$v; break ;; esac
done
if [ -z "$host_tc" ]; then
    log "no host Rust toolchain $want under $HOST_RUSTUP_HOME/toolchains"; exit 1
fi
toolchain="${rust_version}-x86_64-unknown-linux-gnu"
host_tc=$(readlink -f "$host_tc")
[ -x "$HOST_RUSTUP_BIN" ] || { log "rustup binary not found at $HOST_RUSTUP_BIN"; exit 1; }

if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/zc-rust-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

t0=$(now)
log "debootstrap bookworm (minbase + ca-certificates gcc libc6-dev) from $DEBIAN_MIRROR"
nice debootstrap --variant=minbase --include=ca-certificates,gcc,libc6-dev \
    bookworm "$root" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
t1=$(now)
log "debootstrap took $((t1 - t0))s"

# Official-image layout for the toolchain. Docs (share/doc) are left out: the official image
# installs the `minimal` profile, which has none.
install -d "$root/usr/local/cargo/bin" "$root/usr/local/rustup/toolchains"
tar -C "$host_tc" --exclude=./share/doc -cf - . | tar -C "$root/usr/local/rustup/toolchains" --one-top-level="$toolchain" -xf -
cp "$HOST_RUSTUP_BIN" "$root/usr/local/cargo/bin/rustup"
for proxy in cargo rustc rustdoc rust-gdb rust-gdbgui rust-lldb cargo-clippy clippy-driver cargo-fmt rustfmt; do
    ln "$root/usr/local/cargo/bin/rustup" "$root/usr/local/cargo/bin/$proxy"
done
cat >"$root/usr/local/rustup/settings.toml" <<TOML
version = "12"
default_toolchain = "$toolchain"
profile = "minimal"
auto_self_update = "disable"

[overrides]
TOML
chmod -R a+w "$root/usr/local/rustup" "$root/usr/local/cargo"
# Keep the image lean: apt lists and caches are refetched by `apt-get update` in the Dockerfile.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/* "$root"/var/log/*
# This machine reaches crates.io through an egress proxy whose CA is only in the host's bundle.
# Give cargo the host bundle (CARGO_HTTP_CAINFO below) without touching the image's own
# /etc/ssl/certs, so the connector image still ships Debian's pristine CA bundle.
install -d "$root/usr/local/share/host-ca"
cp "${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" "$root/usr/local/share/host-ca/ca-certificates.crt"
# Same sources as the official debian image (deb.debian.org, with security updates).
cat >"$root/etc/apt/sources.list" <<LIST
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
LIST
t2=$(now)
log "toolchain copy took $((t2 - t1))s"

old_id=$("$DOCKER" image inspect --format '{{.Id}}' "$RUST_IMAGE" 2>/dev/null || true)
log "docker import -> $RUST_IMAGE"
tar -C "$root" --numeric-owner -cf - . | nice "$DOCKER" import \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV RUST_VERSION=$rust_version" \
    --change 'ENV CARGO_HTTP_CAINFO=/usr/local/share/host-ca/ca-certificates.crt' \
    --change 'CMD ["bash"]' \
    --message "local stand-in for $RUST_IMAGE (debootstrap bookworm + host toolchain $toolchain)" \
    - "$RUST_IMAGE" >/dev/null
t3=$(now)
if [ -n "$old_id" ]; then "$DOCKER" rmi "$old_id" >/dev/null 2>&1 || true; fi
log "docker import took $((t3 - t2))s"
"$DOCKER" run --rm --network none "$RUST_IMAGE" sh -c 'rustc --version && cargo --version && gcc --version | head -n1' >&2
log "stand-in $RUST_IMAGE ready: debootstrap $((t1 - t0))s, toolchain copy $((t2 - t1))s, import $((t3 - t2))s"
