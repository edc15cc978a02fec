# syntax=docker/dockerfile:1
# One image holds every deploy-relay action: a single static binary
# (`deploy-relay`) with one symlink per action. Each action.yml runs this
# image with `entrypoint: /usr/local/bin/<action>`.
#
#   docker build -t deploy-relay .                    # compile in the builder stage
#   scripts/image.sh                                   # prebuilt binaries, podman, size report
#
# BINARIES picks where the binaries come from: `builder` compiles them here;
# `prebuilt` takes ./dist (made by scripts/image.sh) so the final stage can
# be built without a Rust toolchain in the image build.
ARG BINARIES=builder

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# crt-static: a fully static glibc binary; DNS goes through hickory (pure
# Rust), so no NSS modules are needed at run time.
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN cargo build --locked --release -p deploy-relay --target x86_64-unknown-linux-gnu \
 && mkdir -p /out \
 && cp target/x86_64-unknown-linux-gnu/release/deploy-relay /out/ \
 && for name in $(sed -n 's|^  entrypoint: "/usr/local/bin/\(.*\)"$|\1|p' action.yml actions/*/action.yml); do \
      ln -s deploy-relay "/out/$name"; done

FROM scratch AS prebuilt
COPY dist/ /out/

# hadolint ignore=DL3006
FROM ${BINARIES} AS binaries

# No shell, no package manager, no USER or WORKDIR: container actions run as
# root in the runner's workspace. CA roots are compiled into the binary.
FROM scratch
COPY --from=binaries /out/ /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/deploy-relay"]
