#!/usr/bin/env bash
# Resolve the Kafka broker jars from Maven Central (into ~/.m2) and record their runtime
# classpath in $STATE_DIR/classpath.txt for run.sh. Idempotent; a no-op in well under a second
# when the classpath is newer than pom.xml and every jar on it is still in ~/.m2.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=kafka
source "$HERE/../lib.sh"
require_env STATE_DIR

require_java17 kafka
resolve_classpath kafka "$HERE/pom.xml" "$STATE_DIR/classpath.txt"
