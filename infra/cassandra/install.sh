#!/usr/bin/env bash
# Resolve the Apache Cassandra server jars with Maven (from pom.xml beside this script) and
# record their runtime classpath in $STATE_DIR/classpath.txt for run.sh. The jars stay in
# Maven's own cache (~/.m2); nothing is copied into the repository.
set -euo pipefail
: "${STATE_DIR:?STATE_DIR must be set}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAVA="${CASSANDRA_JAVA:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}"
CLASSPATH_FILE="$STATE_DIR/classpath.txt"

if [ ! -x "$JAVA" ]; then
  echo "cassandra: OpenJDK 17 not found at $JAVA (Cassandra 5.0 runs on Java 11 or 17 only);" \
    "install it with: apt-get install openjdk-17-jre-headless" >&2
  exit 1
fi

# Warm path (must stay well under 2 s): the classpath was resolved from the current pom.xml
# and every jar it names is still in the Maven cache.
if [ -s "$CLASSPATH_FILE" ] && [ "$CLASSPATH_FILE" -nt "$HERE/pom.xml" ]; then
  missing=0
  # (the file has no final newline, so read reports end-of-file: not an error here)
  IFS=: read -r -a jars < "$CLASSPATH_FILE" || true
  for jar in "${jars[@]}"; do
    [ -f "$jar" ] || { missing=1; break; }
  done
  [ "$missing" -eq 0 ] && exit 0
fi

if ! command -v mvn >/dev/null; then
  echo "cassandra: Maven (mvn) is needed to fetch the Cassandra jars; install it with: apt-get install maven" >&2
  exit 1
fi
mkdir -p "$STATE_DIR"
echo "cassandra: resolving cassandra-all and its runtime dependencies with Maven (first run downloads ~100 jars)"
# Maven itself runs on JDK 17 too, whatever JAVA_HOME says, so the newer JDK is never involved.
tmp="$CLASSPATH_FILE.tmp"
if ! JAVA_HOME="$(dirname "$(dirname "$JAVA")")" mvn -q -B -f "$HERE/pom.xml" \
    dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$tmp" \
    > "$STATE_DIR/install.log" 2>&1; then
  echo "cassandra: Maven could not resolve the jars; last lines of $STATE_DIR/install.log:" >&2
  tail -n 30 "$STATE_DIR/install.log" >&2
  exit 1
fi
if ! tr ':' '\n' < "$tmp" | grep -q '/cassandra-all-[^/]*\.jar$'; then
  echo "cassandra: resolved classpath has no cassandra-all jar (see $STATE_DIR/install.log)" >&2
  exit 1
fi
mv "$tmp" "$CLASSPATH_FILE"
echo "cassandra: $(tr ':' '\n' < "$CLASSPATH_FILE" | wc -l) jars ready, classpath in $CLASSPATH_FILE"
