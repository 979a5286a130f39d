#!/usr/bin/env bash
# Installs np-guard's network-config-analyzer (`nca`), pinned by nca-requirements.txt, into
# a virtualenv of its own under .state/tools (idempotent; prints the `nca` path). Its own
# virtualenv because it pins PyYAML, networkx and lxml versions the project does not use.
# Used by tests/deploy/test_connectivity.py on the rendered overlays.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REQUIREMENTS="${ROOT}/infra/tools/nca-requirements.txt"
VENV="${ROOT}/.state/tools/nca-venv"
STAMP="${VENV}/.installed-$(sha256sum "${REQUIREMENTS}" | cut -c1-16)"
TARGET="${VENV}/bin/nca"

if [[ -x "${TARGET}" && -f "${STAMP}" ]]; then
  echo "${TARGET}"
  exit 0
fi
echo "install-nca: installing network-config-analyzer into ${VENV}" >&2
rm -rf "${VENV}"
python3.11 -m venv "${VENV}"
"${VENV}/bin/pip" install -q --no-deps -r "${REQUIREMENTS}" >&2
touch "${STAMP}"
echo "${TARGET}"
