# syntax=docker/dockerfile:1.7
# The console image: the wasm build, then nginx with ops/nginx's config, the
# very file `cargo xtask stack` renders and tests. Built by CI on GitHub.
# Build context: the repository root.

FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-unknown-unknown \
 && apt-get update \
 && apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo xtask web \
 && cp -r web/dist /dist

FROM nginx:1.27-bookworm
# The image's entrypoint renders /etc/nginx/templates/*.template with
# envsubst, substituting only variables that are set, so nginx's own
# $variables stay as they are.
ENV NGINX_ENVSUBST_OUTPUT_DIR=/etc/nginx \
    NGINX_PORT=80 \
    NGINX_ROOT=/usr/share/nginx/html \
    NGINX_RUN_DIR=/var/cache/nginx \
    NGINX_MIME_TYPES=/etc/nginx/mime.types \
    NGINX_ACCESS_LOG=/dev/stdout \
    API_UPSTREAM_SERVERS="server api:3000 max_fails=3 fail_timeout=2s;"
RUN rm -f /etc/nginx/conf.d/default.conf
COPY ops/nginx/nginx.conf.template /etc/nginx/templates/nginx.conf.template
COPY --from=build /dist /usr/share/nginx/html
EXPOSE 80
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/"]
