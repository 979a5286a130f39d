#!/usr/bin/env bash
# Run a single-node Apache Cassandra 5.0 in the foreground on OpenJDK 17: CQL on
# 127.0.0.1:$CASSANDRA_PORT, data, commit log and generated config under $STATE_DIR,
# logs on stdout. SIGTERM drains (flushes memtables) and stops it cleanly; the JVM then exits
# with status 143 (128 + SIGTERM), which is its normal way of ending on that signal.
#
# Environment (set by infra/stack): STATE_DIR (data, commit log, generated cassandra.yaml,
# classpath.txt from install.sh), PORT (CQL), STORAGE_PORT, JMX_PORT (local-only JMX);
# optional CASSANDRA_HEAP (-Xms/-Xmx, 768m).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=cassandra
source "$HERE/../lib.sh"
require_env STATE_DIR PORT STORAGE_PORT JMX_PORT
JAVA="$JAVA17"
CQL_PORT="$PORT"
HEAP="${CASSANDRA_HEAP:-768m}"
CLASSPATH="$(read_classpath cassandra "$STATE_DIR/classpath.txt")"
JAMM="$(tr ':' '\n' <<<"$CLASSPATH" | grep '/jamm-[^/]*\.jar$' | head -n 1)"

mkdir -p "$STATE_DIR"/{data,commitlog,saved_caches,hints,cdc_raw,logs}
sed -e "s|@STATE_DIR@|$STATE_DIR|g" -e "s|@CQL_PORT@|$CQL_PORT|g" \
  -e "s|@STORAGE_PORT@|$STORAGE_PORT|g" "$HERE/cassandra.yaml.in" > "$STATE_DIR/cassandra.yaml"

# Flags from Cassandra 5.0's conf/jvm-server.options and conf/jvm17-server.options, in that
# order. Left out on purpose: -XX:+AlwaysPreTouch (it would make the whole heap resident at
# once; this is a shared developer machine, not a dedicated node).
jvm_server=(
  -ea -da:net.openhft...
  -XX:+UseThreadPriorities -XX:+HeapDumpOnOutOfMemoryError -Xss256k
  -XX:+UseTLAB -XX:+ResizeTLAB -XX:+UseNUMA -XX:+PerfDisableSharedMem
  -Djava.net.preferIPv4Stack=true
)
jvm17_server=(
  -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:G1HeapRegionSize=16m
  -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300
  -XX:InitiatingHeapOccupancyPercent=70
  -Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.useCacheForAllThreads=true
  -Dio.netty.allocator.maxOrder=11
)
# What bin/cassandra and conf/cassandra-env.sh add, with paths under $STATE_DIR.
env_flags=(
  "-Xms$HEAP" "-Xmx$HEAP"
  -XX:+ExitOnOutOfMemoryError "-XX:HeapDumpPath=$STATE_DIR" "-XX:ErrorFile=$STATE_DIR/hs_err_%p.log"
  "-javaagent:$JAMM"
  "-Dcassandra.jmx.local.port=$JMX_PORT"
  -Dcassandra-foreground=yes
  # No jemalloc here: say so, instead of a startup warning that it could not be preloaded.
  -Dcassandra.libjemalloc=-
  "-Dcassandra.config=file://$STATE_DIR/cassandra.yaml"
  # The default superuser (made once, for make up to create its own roles) without the
  # 10 s wait meant for a cluster's nodes to agree first.
  -Dcassandra.superuser_setup_delay_ms=0
  "-Dcassandra.storagedir=$STATE_DIR"
  "-Dcassandra.logdir=$STATE_DIR/logs"
  "-Dlogback.configurationFile=file://$HERE/logback.xml"
)
# One node, no peers: nothing to wait for in gossip, schema agreement or the ring.
fast_start=(
  -Dcassandra.skip_wait_for_gossip_to_settle=0
  -Dcassandra.ring_delay_ms=1000
  -Dcassandra.skip_schema_check=true
  -Dcassandra.shutdown_announce_in_ms=0
  # The memtable row-overhead estimate measures 100,000 sample rows by default (~4 s of a
  # start on 2 cores); 1,000 gives the same estimate here (180 bytes) in a fraction of that.
  -Dcassandra.memtable_row_overhead_computation_step=1000
)

# Cassandra calls mlockall() at start. It fails harmlessly (one WARN) for a normal user, whose
# RLIMIT_MEMLOCK is small, but as root it succeeds and makes the whole heap resident at once.
# Behave like a normal user: small soft limit and, as root, no CAP_IPC_LOCK for the JVM.
ulimit -S -l 64 2>/dev/null || true
as_user=()
if [ "$(id -u)" -eq 0 ] && setpriv --bounding-set -ipc_lock -- true 2>/dev/null; then
  as_user=(setpriv --bounding-set -ipc_lock --)
fi

cd "$STATE_DIR"
exec "${as_user[@]}" "$JAVA" "${jvm_server[@]}" "${jvm17_server[@]}" "${env_flags[@]}" "${fast_start[@]}" \
  -cp "$CLASSPATH" org.apache.cassandra.service.CassandraDaemon
