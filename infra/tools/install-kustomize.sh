#!/usr/bin/env bash
# Installs the pinned kustomize into .state/tools/bin (idempotent; prints the binary's path).
# Built from its Go module with `go install`, so it comes through the Go module proxy like
# any Go dependency and needs no prebuilt download. Used by tests/deploy to render k8s/.
set -euo pipefail

KUSTOMIZE_VERSION="v5.8.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="${ROOT}/.state/tools/bin"
STAMP="${BIN_DIR}/.kustomize-${KUSTOMIZE_VERSION}"
TARGET="${BIN_DIR}/kustomize"

if [[ -x "${TARGET}" && -f "${STAMP}" ]]; then
  echo "${TARGET}"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-kustomize: 'go' is not on PATH; install Go (>= 1.22) to render k8s/ offline" >&2
  exit 1
fi
mkdir -p "${BIN_DIR}"
echo "install-kustomize: building sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" >&2
# CGO off: a static binary that does not depend on the C toolchain being present.
GOBIN="${BIN_DIR}" CGO_ENABLED=0 GOFLAGS="-mod=mod" \
  go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" >&2
rm -f "${BIN_DIR}"/.kustomize-*
touch "${STAMP}"
echo "${TARGET}"
