#!/usr/bin/env bash
# Run Prometheus in the foreground on 127.0.0.1:$PORT: data in $STATE_DIR/data, the
# configuration and rules that infra.stack.monitoring wrote into $STATE_DIR before start
# (scrape targets from infra/stack/components.py, rules from monitoring/alerts.rules.yml).
#
# Environment (set by infra/stack): STATE_DIR, PORT.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=prometheus
source "$HERE/../lib.sh"
require_env STATE_DIR PORT
[ -s "$STATE_DIR/prometheus.yml" ] || die prometheus "$STATE_DIR/prometheus.yml is missing; run make up"

exec prometheus \
  --config.file="$STATE_DIR/prometheus.yml" \
  --storage.tsdb.path="$STATE_DIR/data" \
  --storage.tsdb.retention.time=2d \
  --web.listen-address="127.0.0.1:$PORT" \
  --log.format=json
