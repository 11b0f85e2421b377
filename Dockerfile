# VasKem: multi-stage build; the runtime image runs as an unprivileged user with data in a volume.
# The base images are Docker Hub's; scripts/check-container.sh passes equivalents made from Debian
# packages where no image registry is reachable.
ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin vaskem

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system vaskem \
 && useradd --system --gid vaskem --home-dir /var/lib/vaskem --shell /usr/sbin/nologin vaskem \
 && mkdir -p /var/lib/vaskem \
 && chown vaskem:vaskem /var/lib/vaskem
COPY --from=build /src/target/release/vaskem /usr/local/bin/vaskem
USER vaskem:vaskem
WORKDIR /var/lib/vaskem
# The SQLite default lives here; mount a volume to keep it. Set DATABASE_URL for PostgreSQL.
VOLUME ["/var/lib/vaskem"]
ENV VASKEM_LISTEN=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/vaskem/vaskem.db?mode=rwc
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vaskem"]
CMD ["serve"]
