#!/usr/bin/env bash
# Install the Firestore emulator's npm modules into infra/firestore/node_modules from the
# committed package-lock.json. Idempotent; a no-op when node_modules is newer than the lock.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

source "$HERE/../lib.sh"

npm_ci firestore "$HERE" 18
