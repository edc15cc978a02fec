# syntax=docker/dockerfile:1
# One image holds every deploy-relay action and deploy-receiver: two static
# binaries, `deploy-relay` (every action, with one symlink per action's
# entry point) and `deploy-receiver`. Each action.yml runs this image with
# `entrypoint: /usr/local/bin/<action>`; on a VM the receiver can be copied
# out of it (README "Install").
#
#   docker build -t deploy-relay .            # compile in the builder stage (the build platform's arch)
#   scripts/image.sh [target]                 # prebuilt binaries, podman, size report
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg BINARIES=prebuilt <context>
#                                             # multi-arch from `scripts/image.sh --context` (CI, releases)
#
# BINARIES picks where the binaries come from: `builder` compiles them here;
# `prebuilt` takes dist/<TARGETARCH>/ from the build context (laid out by
# `scripts/image.sh --context`), so the image is built without a Rust
# toolchain and without running anything for the target architecture: an
# arm64 image needs no emulation.
ARG BINARIES=builder

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# crt-static: a fully static glibc binary; DNS goes through hickory (pure
# Rust), so no NSS modules are needed at run time. One cargo run per binary
# (see scripts/dist.sh): built together, cargo would unify their
# dependencies' features and `deploy-relay` would carry the receiver's.
ENV RUSTFLAGS="-C target-feature=+crt-static"
# /out is the final image's file system, as `scripts/image.sh --context` lays it out.
RUN target="$(uname -m)-unknown-linux-gnu" \
 && cargo build --locked --release -p deploy-relay --target "$target" \
 && cargo build --locked --release -p deploy-receiver --target "$target" \
 && mkdir -p /out/usr/local/bin /out/tmp \
 && chmod 1777 /out/tmp \
 && cp "target/$target/release/deploy-relay" "target/$target/release/deploy-receiver" /out/usr/local/bin/ \
 && for name in $(scripts/image.sh --entrypoints); do ln -s deploy-relay "/out/usr/local/bin/$name"; done

FROM scratch AS prebuilt
# Set by BuildKit and buildah to the platform being built: amd64, arm64.
ARG TARGETARCH
COPY dist/${TARGETARCH}/ /out/

# hadolint ignore=DL3006
FROM ${BINARIES} AS binaries

# No shell, no package manager, no USER or WORKDIR: container actions run as
# root in the runner's workspace. CA roots are compiled into the binaries.
# Beside /usr/local/bin only /tmp, for files spooled to the temp dir.
FROM scratch
LABEL org.opencontainers.image.title="deploy-relay" \
      org.opencontainers.image.description="Every deploy-relay GitHub Action and deploy-receiver, as static binaries" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=binaries /out/ /
ENTRYPOINT ["/usr/local/bin/deploy-relay"]
