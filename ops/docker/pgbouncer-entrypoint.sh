#!/bin/sh
# Renders pgbouncer.ini (ports, paths and the database line only) and writes
# the userlist from the environment, then runs pgbouncer in the foreground.
#
# PGBOUNCER_USERS lists "user:VARIABLE" pairs; each user's password is read
# from the variable, or from the file named by VARIABLE_FILE (Docker and
# Nomad secrets), e.g.
#   PGBOUNCER_USERS="app:APP_DB_PASSWORD app_platform:PLATFORM_DB_PASSWORD pgbouncer_admin:PGBOUNCER_ADMIN_PASSWORD"
# (pgbouncer_admin is the admin console's user, pgbouncer.ini's admin_users;
# it needs no PostgreSQL role.) The configuration is read from and written
# to PGBOUNCER_CONFIG_DIR (default /etc/pgbouncer).
set -eu

config_dir=${PGBOUNCER_CONFIG_DIR:-/etc/pgbouncer}

: > "$PGBOUNCER_AUTH_FILE"
chmod 600 "$PGBOUNCER_AUTH_FILE"
for pair in ${PGBOUNCER_USERS:?set PGBOUNCER_USERS to user:VARIABLE pairs}; do
  user=${pair%%:*}
  var=${pair#*:}
  file_var="${var}_FILE"
  eval "password=\${$var:-}"
  eval "password_file=\${$file_var:-}"
  if [ -z "$password" ] && [ -n "$password_file" ]; then
    password=$(cat "$password_file")
  fi
  if [ -z "$password" ]; then
    echo "pgbouncer: no password for $user (set $var or $file_var)" >&2
    exit 1
  fi
  printf '"%s" "%s"\n' "$user" "$(printf '%s' "$password" | sed 's/"/""/g')" >> "$PGBOUNCER_AUTH_FILE"
done

envsubst '${PGBOUNCER_DATABASES} ${PGBOUNCER_LISTEN_ADDR} ${PGBOUNCER_PORT} ${PGBOUNCER_AUTH_FILE} ${PGBOUNCER_SOCKET_DIR}' \
  < "$config_dir/pgbouncer.ini.template" > "$config_dir/pgbouncer.ini"
exec pgbouncer "$config_dir/pgbouncer.ini"
