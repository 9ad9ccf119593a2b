# syntax=docker/dockerfile:1.7
# The API image. Built by CI on GitHub (see docs/deploy.md); the development
# machines run no Docker engine. Build context: the repository root.

FROM rust:1.95-bookworm AS build
# The commit, reported by /api/health so a deploy can tell its replicas
# from the previous ones.
ARG REVISION=unknown
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit), so only
# what changed is recompiled.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    TENANTRY_REVISION=$REVISION cargo build --release --locked -p api \
 && cp target/release/tenantry-api /usr/local/bin/tenantry-api

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin tenantry
COPY --from=build /usr/local/bin/tenantry-api /usr/local/bin/tenantry-api
USER 10001:10001
ENV APP_ENV=production \
    APP_HOST=0.0.0.0 \
    APP_PORT=3000
EXPOSE 3000
# Liveness only: a database outage must not get every replica restarted.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["tenantry-api", "healthcheck"]
ENTRYPOINT ["tenantry-api"]
CMD ["serve"]
