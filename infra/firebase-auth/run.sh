#!/usr/bin/env bash
# Run the Firebase Auth emulator in the foreground on 127.0.0.1:$PORT (set by infra/stack).
# auth-service reaches it through FIREBASE_AUTH_EMULATOR_HOST (firebase-admin's switch):
# revoking refresh tokens on logout-all and deleting users. A "demo-" project never calls
# Google; accounts live in memory only, so every start is empty. Logs go to stdout.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=firebase-auth
source "$HERE/../lib.sh"
require_env STATE_DIR PORT HUB_PORT LOGGING_PORT

FIREBASE="$HERE/node_modules/.bin/firebase"
[ -x "$FIREBASE" ] || die firebase-auth "npm modules are missing; run make up (it runs $HERE/install.sh first)"

# The CLI reads its ports from a firebase.json; write it from the stack's ports.
cat >"$STATE_DIR/firebase.json" <<JSON
{
  "emulators": {
    "singleProjectMode": true,
    "auth": {"host": "127.0.0.1", "port": $PORT},
    "hub": {"host": "127.0.0.1", "port": $HUB_PORT},
    "logging": {"host": "127.0.0.1", "port": $LOGGING_PORT},
    "ui": {"enabled": false}
  }
}
JSON
cd "$STATE_DIR"
# No usage reporting, no update check: the emulator works offline.
export FIREBASE_CLI_DISABLE_UPDATE_CHECK=true FIREBASE_CLI_EXPERIMENTS="" CI=true
exec "$FIREBASE" emulators:start --only auth --project demo-chat --config "$STATE_DIR/firebase.json"
