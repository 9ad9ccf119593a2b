# syntax=docker/dockerfile:1.7
# The console image: the wasm build, then nginx with ops/nginx's templates,
# the very files `cargo xtask stack` and the tests render. Built by CI on
# GitHub. Build context: the repository root.

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
# The image's entrypoint renders /etc/nginx/templates/**/*.template into
# /etc/nginx with envsubst, substituting only variables that are set, so
# nginx's own $variables stay as they are. It runs nginx.conf (plain HTTP);
# the command `nginx -c /etc/nginx/nginx-tls.conf -g "daemon off;"` runs the
# TLS variant, with the certificate and key at the paths below (Docker
# secrets by default; docs/deploy.md, "DNS and TLS").
ENV NGINX_ENVSUBST_OUTPUT_DIR=/etc/nginx \
    NGINX_PORT=80 \
    NGINX_TLS_PORT=443 \
    NGINX_TLS_CERTIFICATE=/run/secrets/tenantry_tls_fullchain \
    NGINX_TLS_CERTIFICATE_KEY=/run/secrets/tenantry_tls_privkey \
    NGINX_ROOT=/usr/share/nginx/html \
    NGINX_RUN_DIR=/var/cache/nginx \
    NGINX_MIME_TYPES=/etc/nginx/mime.types \
    NGINX_ACCESS_LOG=/dev/stdout \
    NGINX_STORAGE_ORIGIN="" \
    API_UPSTREAM_SERVERS="server api:3000 max_fails=3 fail_timeout=2s;"
RUN rm -f /etc/nginx/conf.d/default.conf
COPY ops/nginx/ /etc/nginx/templates/
COPY --from=build /dist /usr/share/nginx/html
EXPOSE 80 443
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/"]
