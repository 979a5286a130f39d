#!/usr/bin/env bash
# Resolve the Kafka broker jars from Maven Central (into ~/.m2) and record their runtime
# classpath in target/classpath.txt for run.sh. Idempotent; a no-op in well under a second
# when the classpath is newer than pom.xml and every jar on it is still in ~/.m2.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAVA="/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
CLASSPATH_FILE="$HERE/target/classpath.txt"

apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "kafka: $1 is missing and there is no apt-get to install it; install it and retry" >&2
    exit 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "kafka: installing Debian packages: ${*:2}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${@:2}" >/dev/null
}

# Kafka 4 brokers need Java 17+; pin 17 explicitly because a newer JDK may also be installed.
[ -x "$JAVA" ] || apt_install "OpenJDK 17 ($JAVA)" openjdk-17-jre-headless

classpath_is_current() {
  [ -s "$CLASSPATH_FILE" ] && [ "$CLASSPATH_FILE" -nt "$HERE/pom.xml" ] || return 1
  local jar
  local -a jars
  # The file has no trailing newline, so read reports EOF; the array is filled all the same.
  IFS=: read -r -a jars < "$CLASSPATH_FILE" || [ "${#jars[@]}" -gt 0 ] || return 1
  for jar in "${jars[@]}"; do
    [ -f "$jar" ] || return 1
  done
}

if classpath_is_current; then
  exit 0
fi

command -v mvn >/dev/null || apt_install "Apache Maven (mvn)" maven
echo "kafka: resolving broker jars with Maven (pom: $HERE/pom.xml)"
# Write to a temporary file first so an interrupted run never leaves a half classpath.
# Maven's output is shown only on failure (in quiet mode it prints stray colour codes).
if ! output="$(JAVA_HOME="/usr/lib/jvm/java-17-openjdk-amd64" mvn -B -q -f "$HERE/pom.xml" \
    dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$CLASSPATH_FILE.tmp" 2>&1)"; then
  printf '%s\n' "$output" | sed 's/\x1b\[[0-9;]*m//g' >&2
  echo "kafka: Maven could not resolve the broker jars (see the output above)" >&2
  exit 1
fi
mv "$CLASSPATH_FILE.tmp" "$CLASSPATH_FILE"
echo "kafka: $(tr ':' '\n' < "$CLASSPATH_FILE" | wc -l) jars on the classpath ($CLASSPATH_FILE)"
