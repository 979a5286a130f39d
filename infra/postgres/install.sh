#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages when no server binary is present.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib.sh"

if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  exit 0
fi
# Our own cluster lives in the state folder; don't let the package create and start one on 5432.
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" |
  "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/no-main-cluster.conf >/dev/null
apt_install postgres "a PostgreSQL server" postgresql
