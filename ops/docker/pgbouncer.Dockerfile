# syntax=docker/dockerfile:1.7
# pgbouncer with ops/pgbouncer/pgbouncer.ini, the file the stack launcher and
# the tests use. The userlist is generated at start from the environment
# (see pgbouncer-entrypoint.sh). Built by CI on GitHub.

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends pgbouncer gettext-base \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /run/pgbouncer /etc/pgbouncer \
 && chown postgres:postgres /run/pgbouncer /etc/pgbouncer
COPY ops/pgbouncer/pgbouncer.ini /etc/pgbouncer/pgbouncer.ini.template
COPY --chmod=0755 ops/docker/pgbouncer-entrypoint.sh /usr/local/bin/pgbouncer-entrypoint.sh
USER postgres
ENV PGBOUNCER_PORT=6432 \
    PGBOUNCER_LISTEN_ADDR=0.0.0.0 \
    PGBOUNCER_SOCKET_DIR=/run/pgbouncer \
    PGBOUNCER_AUTH_FILE=/etc/pgbouncer/userlist.txt \
    PGBOUNCER_DATABASES="* = host=postgres port=5432"
EXPOSE 6432
# bash, not sh: Debian's sh (dash) has no /dev/tcp.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PGBOUNCER_PORT}"]
ENTRYPOINT ["pgbouncer-entrypoint.sh"]
