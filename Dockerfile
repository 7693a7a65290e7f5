# The service image the manifests in deploy/k8s run:
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     -t tovuti-ghl-bridge:0.1.0 .
# Dependencies are built in a layer of their own (cargo-chef), so a change to the
# service's code rebuilds only the crate itself.
# checkov:skip=CKV_DOCKER_2: no HEALTHCHECK on purpose; Kubernetes probes /healthz and /readyz (deploy/k8s), and Docker's check would only duplicate them.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS chef
RUN cargo install cargo-chef --version 0.1.78 --locked
WORKDIR /src

# The recipe: Cargo.toml, Cargo.lock and the targets' skeleton, nothing else.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
# No debug info, symbols stripped (about 25 MB for version 0.1.0). Cargo.toml's release
# profile keeps line tables for profiling the benchmarks; the image does not need them.
ENV CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=symbols
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin tovuti-ghl-bridge
COPY . .
RUN cargo build --release --locked --bin tovuti-ghl-bridge \
    && mkdir -p /out/data

# glibc and libgcc only: no shell, no package manager. TLS roots are compiled in
# (rustls with webpki roots), SQLite is bundled.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="tovuti-ghl-bridge" \
      org.opencontainers.image.description="Keeps a Tovuti LMS and a GoHighLevel sub-account in sync, both ways, in real time." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"
COPY --from=build /src/target/release/tovuti-ghl-bridge /usr/local/bin/tovuti-ghl-bridge
# The default SQLite file (sqlite://data/bridge.db) is relative to the working
# directory, which the service's user owns. Kubernetes mounts a volume instead.
COPY --from=build --chown=10001:10001 /out/data /home/bridge/data
WORKDIR /home/bridge
# The uid/gid the manifests' securityContext names (runAsUser/runAsGroup 10001).
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tovuti-ghl-bridge"]
CMD ["serve"]
