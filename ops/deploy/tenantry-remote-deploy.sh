#!/bin/sh
# The only command the CI deploy key may run on a deploy host. Install as
# /usr/local/bin/tenantry-remote-deploy and restrict the key in
# ~/.ssh/authorized_keys:
#   command="/usr/local/bin/tenantry-remote-deploy",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding ssh-ed25519 AAAA... ci-deploy
#
# The host holds what gets deployed, so the key can only choose which
# commit's images run: /etc/tenantry/deploy.conf (IMAGE_PREFIX=ghcr.io/owner/repo)
# and the reviewed copies of ops/swarm/stack.yml and ops/nomad/tenantry.nomad.hcl
# in /etc/tenantry/. The workflow sends one of:
#   deploy swarm|nomad <40-hex commit>
#   rollback swarm|nomad
set -euf

dir=${TENANTRY_DEPLOY_DIR:-/etc/tenantry}

fail() { echo "tenantry-remote-deploy: $*" >&2; exit 2; }

# shellcheck disable=SC2086 # split the words ssh received, nothing else
set -- ${SSH_ORIGINAL_COMMAND:-}
[ "$#" -le 3 ] || fail "too many words"
action=${1:-}
orchestrator=${2:-}
case "$orchestrator" in swarm|nomad) ;; *) fail "orchestrator must be swarm or nomad" ;; esac

IMAGE_PREFIX=$(sed -n 's/^IMAGE_PREFIX=//p' "$dir/deploy.conf" 2>/dev/null | head -n 1)
printf '%s' "$IMAGE_PREFIX" | grep -Eq '^ghcr\.io/[a-z0-9._-]+/[a-z0-9._-]+$' \
  || fail "set IMAGE_PREFIX=ghcr.io/<owner>/<repository> in $dir/deploy.conf"

case "$action" in
  deploy)
    [ "$#" -eq 3 ] || fail "usage: deploy swarm|nomad <commit>"
    tag=$3
    printf '%s' "$tag" | grep -Eq '^[0-9a-f]{40}$' || fail "the tag must be a full commit SHA"
    if [ "$orchestrator" = swarm ]; then
      IMAGE_PREFIX=$IMAGE_PREFIX TAG=$tag exec docker stack deploy --with-registry-auth --prune --detach=false \
        -c "$dir/stack.yml" tenantry
    else
      exec nomad job run -var "image_prefix=$IMAGE_PREFIX" -var "tag=$tag" "$dir/tenantry.nomad.hcl"
    fi
    ;;
  rollback)
    [ "$#" -eq 2 ] || fail "usage: rollback swarm|nomad"
    if [ "$orchestrator" = swarm ]; then
      for service in api web pgbouncer; do
        state=$(docker service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "tenantry_$service")
        # Swarm's own failure_action may have rolled back already; a second
        # rollback would bring the failed version back.
        case "$state" in
          rollback_*) echo "tenantry_$service: already $state" ;;
          *) docker service rollback "tenantry_$service" ;;
        esac
      done
    else
      current=$(nomad job inspect -t '{{ .Version }}' tenantry)
      version=$((current - 1))
      # The newest earlier version that was healthy (auto_revert may already
      # have gone back to it).
      while [ "$version" -ge 0 ]; do
        if [ "$(nomad job inspect -version "$version" -t '{{ .Stable }}' tenantry)" = true ]; then
          exec nomad job revert tenantry "$version"
        fi
        version=$((version - 1))
      done
      fail "no earlier stable version to revert to"
    fi
    ;;
  *) fail "unknown command: ${SSH_ORIGINAL_COMMAND:-}" ;;
esac
