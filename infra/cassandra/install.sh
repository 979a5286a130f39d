#!/usr/bin/env bash
# Resolve the Apache Cassandra server jars with Maven (from pom.xml beside this script) and
# record their runtime classpath in $STATE_DIR/classpath.txt for run.sh. The jars stay in
# Maven's own cache (~/.m2); nothing is copied into the repository.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=cassandra
source "$HERE/../lib.sh"
require_env STATE_DIR

require_java17 cassandra
resolve_classpath cassandra "$HERE/pom.xml" "$STATE_DIR/classpath.txt"
if ! grep -q '/cassandra-all-[^/]*\.jar' "$STATE_DIR/classpath.txt"; then
  rm -f "$STATE_DIR/classpath.txt"
  die cassandra "the resolved classpath has no cassandra-all jar (see $STATE_DIR/classpath.txt.log)"
fi
