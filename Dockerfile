# The service image used by deploy/k8s. Built with `docker build -t tovuti-ghl-bridge .`
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin tovuti-ghl-bridge

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 bridge
COPY --from=build /src/target/release/tovuti-ghl-bridge /usr/local/bin/tovuti-ghl-bridge
USER bridge
WORKDIR /home/bridge
EXPOSE 8080
ENTRYPOINT ["tovuti-ghl-bridge"]
CMD ["serve"]
