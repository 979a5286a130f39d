#!/usr/bin/env bash
# Run the Firestore emulator in the foreground on 127.0.0.1:$PORT (set by infra/stack).
# It keeps data in memory only, so every start is empty: Firestore holds nothing but
# short-lived batches whose history is in Cassandra, and an emulator that carried them over
# restarts grew with every test and benchmark run until it ran out of heap.
# FIRESTORE_PERSIST=1 keeps documents across clean restarts instead ($STATE_DIR/snapshot.json,
# saved on SIGTERM without those whose expire_at has passed). Logs go to stdout.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=firestore
source "$HERE/../lib.sh"
require_env STATE_DIR PORT

[ -d "$HERE/node_modules/@firestore-emulator/server" ] ||
  die firestore "npm modules are missing; run make up (it runs $HERE/install.sh first)"

export FIRESTORE_HOST=127.0.0.1
export FIRESTORE_PORT="$PORT"
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
