# VasKem: multi-stage build; the runtime image runs as an unprivileged user with data in a volume.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin vaskem

FROM debian:bookworm-slim
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
