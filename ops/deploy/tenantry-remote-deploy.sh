#!/bin/sh
# The only command the CI deploy key may run on a deploy host. Install as
# /usr/local/bin/tenantry-remote-deploy and restrict the key in
# ~/.ssh/authorized_keys:
#   command="/usr/local/bin/tenantry-remote-deploy",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding ssh-ed25519 AAAA... ci-deploy
# The workflow sends one of:
#   deploy swarm|nomad <image-prefix> <tag>    (the stack file or job on stdin)
#   rollback swarm|nomad
set -euf

# shellcheck disable=SC2086 # split the words ssh received, nothing else
set -- ${SSH_ORIGINAL_COMMAND:-}

fail() { echo "tenantry-remote-deploy: $*" >&2; exit 2; }

action=${1:-}
orchestrator=${2:-}
case "$orchestrator" in swarm|nomad) ;; *) fail "orchestrator must be swarm or nomad" ;; esac

case "$action" in
  deploy)
    prefix=${3:-}
    tag=${4:-}
    printf '%s' "$prefix" | grep -Eq '^ghcr\.io/[a-z0-9._/-]+$' || fail "bad image prefix"
    # Set TENANTRY_IMAGE_PREFIX on the host to accept this repository's
    # images only.
    if [ -n "${TENANTRY_IMAGE_PREFIX:-}" ] && [ "$prefix" != "$TENANTRY_IMAGE_PREFIX" ]; then
      fail "image prefix not allowed here"
    fi
    printf '%s' "$tag" | grep -Eq '^[A-Za-z0-9._-]{1,128}$' || fail "bad tag"
    if [ "$orchestrator" = swarm ]; then
      IMAGE_PREFIX=$prefix TAG=$tag exec docker stack deploy --with-registry-auth --prune -c - tenantry
    else
      exec nomad job run -var "image_prefix=$prefix" -var "tag=$tag" -
    fi
    ;;
  rollback)
    if [ "$orchestrator" = swarm ]; then
      for service in api web pgbouncer; do
        docker service rollback "tenantry_$service" || true
      done
    else
      current=$(nomad job inspect -t '{{ .Version }}' tenantry)
      [ "$current" -gt 0 ] || fail "no earlier version to revert to"
      exec nomad job revert tenantry "$((current - 1))"
    fi
    ;;
  *) fail "unknown command: ${SSH_ORIGINAL_COMMAND:-}" ;;
esac
