#!/usr/bin/env bash
# Run one of the Kafka distribution's own command-line tools (a main class of kafka-tools,
# resolved by install.sh with the broker's jars) against the local broker.
# Usage: tool.sh MAIN_CLASS ARGS...   Environment (set by infra/stack/store_tools.py): STATE_DIR.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=kafka
source "$HERE/../lib.sh"
require_env STATE_DIR
# A no-op when the jars are current; resolves kafka-tools on a stack started before it.
bash "$HERE/install.sh" >&2
main=$1
shift
CLASSPATH="$(read_classpath kafka "$STATE_DIR/classpath.txt")"
export CLASSPATH
exec "$JAVA17" -Xmx256m -Dlog4j2.configurationFile="$HERE/log4j2-tools.properties" "$main" "$@"
