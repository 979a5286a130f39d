#!/usr/bin/env bash
# Run one of the Kafka distribution's admin tools (org.apache.kafka.tools.<TOOL>, from
# kafka-tools: AclCommand is kafka-acls, ConfigCommand kafka-configs) against the local
# broker as the super user `admin`. infra/rights/local.py uses it to apply the rights.
#
# Usage: admin.sh TOOL ARGS...   Environment (set by infra/rights): STATE_DIR, PORT.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=kafka
source "$HERE/../lib.sh"
require_env STATE_DIR PORT
tool=$1
shift
CLASSPATH="$(read_classpath kafka "$STATE_DIR/classpath.txt")"
export CLASSPATH
# C1 only: these run for a second or two, C2 would never pay off.
exec "$JAVA17" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -Dlog4j2.configurationFile="$HERE/log4j2.properties" \
  "org.apache.kafka.tools.$tool" --bootstrap-server "127.0.0.1:$PORT" \
  --command-config "$STATE_DIR/admin.properties" "$@"
