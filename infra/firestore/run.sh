#!/usr/bin/env bash
# Run the Firestore emulator in the foreground on 127.0.0.1:$FIRESTORE_PORT (default 8080).
# It keeps data in memory and saves it to $STATE_DIR/snapshot.json on SIGTERM, loading it
# back on the next start. Logs go to stdout.
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
# A modest heap: the emulator holds only short-lived test documents.
exec node --max-old-space-size=256 "$HERE/emulator.mjs"
