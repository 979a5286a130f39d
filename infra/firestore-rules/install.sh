#!/usr/bin/env bash
# Install the Firestore rules parser (check.mjs's npm modules) into
# infra/firestore-rules/node_modules from the committed package-lock.json. Idempotent: a
# no-op when node_modules is newer than the lock.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# npm ci writes this marker last, so its age tells whether the last install completed.
MARKER="$HERE/node_modules/.package-lock.json"

source "$HERE/../lib.sh"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install firestore-rules "Node.js and npm" nodejs npm
fi
if [ -f "$MARKER" ] && [ "$MARKER" -nt "$HERE/package-lock.json" ]; then
  exit 0
fi
echo "firestore-rules: installing npm modules from $HERE/package-lock.json"
if ! (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
  echo "firestore-rules: npm ci failed (see the output above)" >&2
  exit 1
fi
