#!/usr/bin/env bash
# Makes the secrets docker-compose.yml mounts: the operator key every silo shares (gwo_ + 64 hex digits) and
# Grafana's admin password. Usage: deploy/make-operator-key.sh [folder] (default: deploy/secrets). Never overwrites.
# operator.key is readable by its owner and group 1654 (the silo image's "app" user; GROUNDWORK_KEY_GID overrides),
# grafana-admin.password by its owner and group 0 (Grafana's image runs as uid 472, group 0). Setting those groups
# needs root; without root both files are left readable by every local user, and the script says so.
set -euo pipefail
out="${1:-$(dirname "$0")/secrets}"
gid="${GROUNDWORK_KEY_GID:-1654}"
mkdir -p "$out"
umask 077
if [ ! -f "$out/operator.key" ]; then
  printf 'gwo_%s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" > "$out/operator.key"
  echo "made $out/operator.key"
fi
if [ ! -f "$out/grafana-admin.password" ]; then
  od -An -N18 -tx1 /dev/urandom | tr -d ' \n' > "$out/grafana-admin.password"
  echo "made $out/grafana-admin.password"
fi
if [ "$(id -u)" = 0 ]; then
  chgrp "$gid" "$out/operator.key"
  chgrp 0 "$out/grafana-admin.password"
  chmod 640 "$out/operator.key" "$out/grafana-admin.password"
else
  chmod 644 "$out/operator.key" "$out/grafana-admin.password"
  echo "make-operator-key: not root, so the files in $out are readable by every local user (the containers' users must read them); run with sudo to restrict them" >&2
fi
