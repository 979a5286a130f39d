#!/usr/bin/env bash
# Installs Debian's chromium for the browser end-to-end tests (tests/e2e), once.
# Playwright drives this system browser (executable_path=/usr/bin/chromium); its own
# browser downloads are never used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "Installing Debian's chromium (for tests/e2e)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
