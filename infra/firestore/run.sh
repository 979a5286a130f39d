#!/usr/bin/env bash
# Run the Firestore emulator in the foreground on 127.0.0.1:$FIRESTORE_PORT (default 8080).
# It keeps data in memory and saves it to $STATE_DIR/snapshot.json on SIGTERM (dropping
# documents whose expire_at has passed), loading it back on the next start. Logs go to stdout.
set -euo pipefail
: "${STATE_DIR:?STATE_DIR must be set}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -d "$HERE/node_modules/@firestore-emulator/server" ]; then
  echo "firestore: npm modules are missing; run $HERE/install.sh first" >&2
  exit 1
fi

export FIRESTORE_HOST=127.0.0.1
export FIRESTORE_PORT="${FIRESTORE_PORT:-8080}"
export FIRESTORE_SNAPSHOT="$STATE_DIR/snapshot.json"
# The design's batch documents carry expire_at for a TTL policy; honour it across restarts.
export FIRESTORE_TTL_FIELD="${FIRESTORE_TTL_FIELD:-expire_at}"
# The emulator keeps every document in memory until it stops; 512 MiB leaves room for
# benchmark runs of near-1 MiB batch documents without letting it grow unbounded.
exec node --max-old-space-size=512 "$HERE/emulator.mjs"
