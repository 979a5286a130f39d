#!/usr/bin/env bash
# Install the Firestore emulator's npm modules into infra/firestore/node_modules from the
# committed package-lock.json. Idempotent; a no-op when node_modules is newer than the lock.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# npm ci writes this marker last, so its age tells whether the last install completed.
MARKER="$HERE/node_modules/.package-lock.json"

source "$HERE/../lib.sh"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install firestore "Node.js and npm" nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "firestore: Node.js $(node --version) is too old; the emulator needs Node.js 18 or newer" >&2
  exit 1
fi

if [ -f "$MARKER" ] && [ "$MARKER" -nt "$HERE/package-lock.json" ]; then
  exit 0
fi

echo "firestore: installing npm modules from $HERE/package-lock.json"
# --ignore-scripts: nothing here needs an install script (protobufjs only prints a notice).
if ! (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
  echo "firestore: npm ci failed (see the output above)" >&2
  exit 1
fi
