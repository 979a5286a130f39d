#!/usr/bin/env bash
# Install Prometheus (and promtool) from Debian's packages when they are missing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib.sh"

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
# Without the recommended node exporter: nothing here reads host metrics.
apt_install prometheus "Prometheus" --no-install-recommends prometheus
# Where systemd runs, the package starts its own server on :9090; ours is the one in the
# state folder (infra/prometheus/run.sh), so stop and disable the package's.
if [ -d /run/systemd/system ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
