#!/usr/bin/env bash
# Install the Firestore rules parser (check.mjs's npm modules) into
# infra/firestore-rules/node_modules from the committed package-lock.json. Idempotent: a
# no-op when node_modules is newer than the lock.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

source "$HERE/../lib.sh"

npm_ci firestore-rules "$HERE"
