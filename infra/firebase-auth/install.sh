#!/usr/bin/env bash
# Install firebase-tools (its Auth emulator is plain Node: nothing is downloaded at start)
# into infra/firebase-auth/node_modules from the committed package-lock.json. Idempotent.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

source "$HERE/../lib.sh"

npm_ci firebase-auth "$HERE" 20
