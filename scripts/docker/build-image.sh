#!/usr/bin/env bash
# Build the connector image from the repository's Dockerfile, as is.
#
#   scripts/docker/build-image.sh            # -> source-zendesk-chat:dev
#
# 1. ensures a Docker engine (setup-engine.sh: installs docker.io and starts dockerd if needed);
# 2. creates local stand-ins for base images that cannot be pulled (make-base-images.sh; cached);
# 3. `docker build --network host` with CONNECTOR_VERSION read from Cargo.toml, tagged $IMAGE;
# 4. tags the build stage as <image>:build-cache (the next build's cache), removes superseded
#    builds, prints the image size and step timings.
#
# Env: IMAGE (default source-zendesk-chat:dev), DOCKER_BUILD_ARGS (extra args, word-split),
#      SKIP_BASE_IMAGES=1 (on a machine that can pull: let docker pull rust:1.95-slim-bookworm).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
IMAGE=${IMAGE:-source-zendesk-chat:dev}
log() { printf '[build-image] %s\n' "$*" >&2; }
now() { date +%s; }

t0=$(now)
# shellcheck source=setup-engine.sh
. "$here/setup-engine.sh"
t1=$(now)

if [ "${SKIP_BASE_IMAGES:-0}" != 1 ]; then
    # Every non-scratch FROM of the Dockerfile needs a stand-in; today that is only the Rust image.
    for base in $(awk 'toupper($1)=="FROM" {print $2}' "$repo/Dockerfile" | sort -u); do
        case "$base" in
            scratch) ;;
            rust:*) RUST_IMAGE=$base bash "$here/make-base-images.sh" ;;
            *) "$DOCKER" image inspect "$base" >/dev/null 2>&1 || { log "no recipe for base image $base"; exit 1; } ;;
        esac
    done
fi
t2=$(now)

version=$(awk -F'"' '/^\[package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{print $2; exit}' "$repo/Cargo.toml")
[ -n "$version" ] || { log "cannot read the package version from Cargo.toml"; exit 1; }

log "docker build -t $IMAGE (io.airbyte.version=$version)"
build_log=${BUILD_LOG:-$(mktemp "${TMPDIR:-/tmp}/docker-build.XXXXXX.log")}
# shellcheck disable=SC2086
if ! nice -n 10 "$DOCKER" build --network host --pull=false --force-rm \
    --build-arg CONNECTOR_VERSION="$version" \
    ${DOCKER_BUILD_ARGS:-} \
    -t "$IMAGE" "$repo" >"$build_log" 2>&1; then
    tail -n 60 "$build_log" >&2
    log "docker build failed (full log: $build_log)"
    exit 1
fi
t3=$(now)

# Keep the build stage of this build as the next build's cache: tag its last layer (the legacy
# builder prints it just before `FROM scratch`), so pruning cannot remove it. Then drop superseded
# images and build stages: with the vfs storage driver each one costs gigabytes of disk.
builder_id=$(awk '/^Step [0-9]+\/[0-9]+ : FROM scratch/{print id; exit} /^ ---> [0-9a-f]+$/{id=$2}' "$build_log")
if [ -n "$builder_id" ]; then "$DOCKER" tag "$builder_id" "${IMAGE%%:*}:build-cache"; fi
for label in io.airbyte.name=airbyte/source-zendesk-chat io.airbyte.build-stage=source-zendesk-chat-builder; do
    "$DOCKER" image prune -f --filter "label=$label" >/dev/null || true
done

size=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
log "timings: engine $((t1 - t0))s, base images $((t2 - t1))s, docker build $((t3 - t2))s"
echo "image $IMAGE: $size bytes ($(awk -v s="$size" 'BEGIN{printf "%.1f", s/1000000}') MB)"
