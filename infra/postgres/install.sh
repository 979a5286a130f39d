#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages when no server binary is present.
set -euo pipefail

if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "postgres: no PostgreSQL server found and no apt-get to install one; install PostgreSQL 15+ and retry" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "postgres: installing Debian's postgresql package"
# Our own cluster lives in the state folder; don't let the package create and start one on 5432.
$SUDO mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/no-main-cluster.conf >/dev/null
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
