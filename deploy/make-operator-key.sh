#!/usr/bin/env bash
# Makes the secrets docker-compose.yml mounts: the operator key every silo shares (gwo_ + 64 hex digits) and
# Grafana's admin password. Usage: deploy/make-operator-key.sh [folder] (default: deploy/secrets). Never overwrites.
set -euo pipefail
out="${1:-$(dirname "$0")/secrets}"
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
chmod 644 "$out/operator.key" "$out/grafana-admin.password"  # read by the containers' non-root users
