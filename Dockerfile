# Docker image for the Airbyte source `source-zendesk-chat` (Rust).
#
#   docker build -t source-zendesk-chat:dev .
#
# Two stages: the official Rust image builds a fully static binary (glibc, crt-static); the runtime
# image is `scratch` + a static busybox (the Airbyte platform starts sources through
# `sh -c '... eval "$AIRBYTE_ENTRYPOINT read ..." & ... sleep ...'`, so `sh`, `sleep` and `kill` must
# be on PATH), the CA bundle and the binary. About 11 MB, amd64, runs as uid 1000.
#
# Written for the legacy builder as well as BuildKit: no RUN --mount, heredocs or COPY --chmod.
# The version label comes from Cargo.toml: scripts/docker/build-image.sh passes
# --build-arg CONNECTOR_VERSION=<Cargo.toml version>; the default below must equal it
# (scripts/docker/check-metadata.py fails CI otherwise).

FROM rust:1.95-slim-bookworm AS builder
# Lets build scripts find (and prune) superseded build-stage caches; not part of the final image.
LABEL io.airbyte.build-stage=source-zendesk-chat-builder

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends busybox-static ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /build
# --target is required with +crt-static: without it RUSTFLAGS also reach proc-macros, which cannot
# be built as static executables.
ENV RUSTFLAGS="-C target-feature=+crt-static" \
    CARGO_TERM_COLOR=never

# 1) Dependencies only, against stub sources: this layer stays cached until Cargo.toml/Cargo.lock
#    change, so editing the connector recompiles only the connector. (If Cargo.toml ever names
#    target files explicitly - [[test]], [[bench]], build = "..." - create stubs for them here too.)
COPY Cargo.toml Cargo.lock ./
COPY sandbox/Cargo.toml sandbox/Cargo.toml
RUN mkdir -p src sandbox/src \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && echo 'fn main() {}' > sandbox/src/main.rs && touch sandbox/src/lib.rs \
 && cargo build --release --locked --target x86_64-unknown-linux-gnu --bin source-zendesk-chat \
 && rm -rf src sandbox/src

# 2) The connector itself. `touch` makes cargo see the real sources as newer than the stubs.
COPY . .
RUN find src sandbox/src -name '*.rs' -exec touch {} + \
 && cargo build --release --locked --target x86_64-unknown-linux-gnu --bin source-zendesk-chat \
 && bin=target/x86_64-unknown-linux-gnu/release/source-zendesk-chat \
 && (ldd "$bin" 2>&1 | grep -qE 'not a dynamic executable|statically linked') \
 && mkdir -p /rootfs/bin /rootfs/usr/local/bin /rootfs/etc/ssl/certs /rootfs/airbyte /rootfs/tmp \
 && cp "$bin" /rootfs/usr/local/bin/source-zendesk-chat \
 && cp /bin/busybox /rootfs/bin/busybox \
 && for applet in $(/bin/busybox --list); do \
      [ "$applet" = busybox ] || ln -s busybox "/rootfs/bin/$applet"; \
    done \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
 && printf 'root:x:0:0:root:/root:/bin/sh\nairbyte:x:1000:1000:airbyte:/airbyte:/bin/sh\n' > /rootfs/etc/passwd \
 && printf 'root:x:0:\nairbyte:x:1000:\n' > /rootfs/etc/group

FROM scratch

ARG CONNECTOR_VERSION=0.1.0

COPY --from=builder /rootfs/ /
RUN chown 1000:1000 /airbyte && chmod 0755 /airbyte && chmod 1777 /tmp

ENV PATH=/usr/local/bin:/bin \
    AIRBYTE_ENTRYPOINT=/usr/local/bin/source-zendesk-chat

LABEL io.airbyte.name=airbyte/source-zendesk-chat \
      io.airbyte.version=${CONNECTOR_VERSION} \
      org.opencontainers.image.title=source-zendesk-chat \
      org.opencontainers.image.version=${CONNECTOR_VERSION} \
      org.opencontainers.image.licenses=MIT

USER 1000:1000
WORKDIR /airbyte
ENTRYPOINT ["/usr/local/bin/source-zendesk-chat"]
