#!/usr/bin/env bash
# Run the Firestore emulator in the foreground on 127.0.0.1:$FIRESTORE_PORT (default 8080).
# It keeps data in memory only, so every start is empty: Firestore holds nothing but
# short-lived batches whose history is in Cassandra, and an emulator that carried them over
# restarts grew with every test and benchmark run until it ran out of heap.
# FIRESTORE_PERSIST=1 keeps documents across clean restarts instead ($STATE_DIR/snapshot.json,
# saved on SIGTERM without those whose expire_at has passed). Logs go to stdout.
set -euo pipefail
: "${STATE_DIR:?STATE_DIR must be set}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -d "$HERE/node_modules/@firestore-emulator/server" ]; then
  echo "firestore: npm modules are missing; run $HERE/install.sh first" >&2
  exit 1
fi

export FIRESTORE_HOST=127.0.0.1
export FIRESTORE_PORT="${FIRESTORE_PORT:-8080}"
if [ "${FIRESTORE_PERSIST:-0}" = "1" ]; then
  export FIRESTORE_SNAPSHOT="$STATE_DIR/snapshot.json"
  # The design's batch documents carry expire_at for a TTL policy; honour it across restarts.
  export FIRESTORE_TTL_FIELD="${FIRESTORE_TTL_FIELD:-expire_at}"
else
  unset FIRESTORE_SNAPSHOT
fi
# Every document stays in memory until the emulator stops (it has no TTL); the benchmarks
# write thousands of near-1 MiB-capable batch documents, so give it room, within bounds.
exec node --max-old-space-size="${FIRESTORE_HEAP_MIB:-2048}" "$HERE/emulator.mjs"
