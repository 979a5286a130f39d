# Shell policy shared by infra/<server>/install.sh and run.sh; source it, don't run it.
#
# One policy for every server: a missing tool is installed from Debian's packages (with sudo
# when not root) rather than refused; Java servers run on OpenJDK 17 whatever else is on PATH;
# Maven-resolved classpaths live in the component's state folder ($STATE_DIR/classpath.txt);
# ports and the state folder come from the orchestrator (infra/stack/components.py), which
# declares each port once, so a script never carries a default of its own.

# The JDK every Java server runs on: Kafka 4 needs 17+, Cassandra 5.0 runs on 11 or 17 only,
# and a newer JDK installed beside it must never be picked up from PATH.
JAVA17_HOME="/usr/lib/jvm/java-17-openjdk-amd64"
JAVA17="$JAVA17_HOME/bin/java"

# die COMPONENT MESSAGE...: print "component: message" on stderr and exit 1.
die() {
  local component=$1
  shift
  echo "$component: $*" >&2
  exit 1
}

# require_env NAME...: exit unless every named variable is set (the orchestrator sets them).
require_env() {
  local name
  for name in "$@"; do
    [ -n "${!name:-}" ] || die "${COMPONENT:-infra}" "$name must be set (run it through make up)"
  done
}

# apt_install COMPONENT WHAT PACKAGE...: install Debian packages for a missing tool.
apt_install() {
  local component=$1 what=$2
  shift 2
  command -v apt-get >/dev/null ||
    die "$component" "$what is missing and there is no apt-get to install it; install it and retry"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "$component: installing Debian packages: $*"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null
}

# require_java17 COMPONENT: install OpenJDK 17 when it is missing.
require_java17() {
  [ -x "$JAVA17" ] || apt_install "$1" "OpenJDK 17 ($JAVA17)" openjdk-17-jre-headless
}

# classpath_is_current FILE POM: the classpath was resolved from the current pom and every
# jar it names is still in Maven's cache (the warm path of an install: well under a second).
classpath_is_current() {
  local file=$1 pom=$2 jar
  local -a jars
  [ -s "$file" ] && [ "$file" -nt "$pom" ] || return 1
  # The file has no trailing newline, so read reports EOF; the array is filled all the same.
  IFS=: read -r -a jars < "$file" || [ "${#jars[@]}" -gt 0 ] || return 1
  for jar in "${jars[@]}"; do
    [ -f "$jar" ] || return 1
  done
}

# resolve_classpath COMPONENT POM FILE: resolve the pom's runtime jars with Maven (into ~/.m2)
# and write their classpath to FILE, atomically, so an interrupted run never leaves half of
# one. Maven's output is kept in FILE.log and shown only on failure.
resolve_classpath() {
  local component=$1 pom=$2 file=$3
  classpath_is_current "$file" "$pom" && return 0
  command -v mvn >/dev/null || apt_install "$component" "Apache Maven (mvn)" maven
  echo "$component: resolving jars with Maven (pom: $pom; the first run downloads them)"
  mkdir -p "$(dirname "$file")"
  # Maven itself runs on JDK 17 too, whatever JAVA_HOME says.
  if ! JAVA_HOME="$JAVA17_HOME" mvn -B -q -f "$pom" dependency:build-classpath \
      -Dmdep.includeScope=runtime -Dmdep.outputFile="$file.tmp" > "$file.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$file.log" | tail -n 30 >&2
    die "$component" "Maven could not resolve the jars (see the output above, or $file.log)"
  fi
  mv "$file.tmp" "$file"
  echo "$component: $(tr ':' '\n' < "$file" | wc -l) jars on the classpath ($file)"
}

# read_classpath COMPONENT FILE: print the classpath, or exit if install.sh never wrote it.
read_classpath() {
  [ -s "$2" ] || die "$1" "$2 is missing; run make up (it runs infra/$1/install.sh first)"
  cat "$2"
}

# npm_ci COMPONENT DIR [MIN_NODE_MAJOR]: install DIR's npm modules from its committed
# package-lock.json (Node.js and npm first, from Debian, if missing). A no-op when the last
# install completed after the lock changed: npm ci writes node_modules/.package-lock.json
# last, so that marker's age tells. --ignore-scripts: no module here needs an install script.
npm_ci() {
  local component=$1 dir=$2 min_major=${3:-0}
  local marker="$dir/node_modules/.package-lock.json"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install "$component" "Node.js and npm" nodejs npm
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge "$min_major" ] ||
    die "$component" "Node.js $(node --version) is too old; it needs Node.js $min_major or newer"
  if [ -f "$marker" ] && [ "$marker" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  echo "$component: installing npm modules from $dir/package-lock.json"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
    die "$component" "npm ci failed (see the output above)"
}
