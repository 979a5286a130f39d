#!/usr/bin/env bash
# Run every package's test suite, then the cross-service tests (tests/), the API conformance
# suite (tests/api: schemathesis against both running services) and the crash tests. Every
# suite runs even when an earlier one fails; the last line totals them ("N passed, N failed").
# With --unit first: only each package's tests/unit, which need no server at all.
set -uo pipefail
cd "$(dirname "$0")/.."
pytest="$PWD/.venv/bin/pytest"
passed=0 failed=0 broken=""
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

run_suite() {  # name, directory, pytest args...
  local name=$1 dir=$2
  shift 2
  echo "=== $name"
  (cd "$dir" && "$pytest" -q "$@") | tee "$summary"
  local status=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^=*[ ]*[0-9]+ (passed|failed)' "$summary" | tail -n 1)
  passed=$((passed + $(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)))
  failed=$((failed + $(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)))
  # Exit 5 (no tests collected) is a failure too: a suite that runs nothing checks nothing.
  [ "$status" -eq 0 ] || broken="$broken $name"
}

if [ "${1:-}" = "--unit" ]; then
  shift
  for package in "$@"; do
    run_suite "$package unit" "$package" tests/unit
  done
else
  for package in "$@"; do
    run_suite "$package" "$package"
  done
  run_suite "cross-service tests" . tests --ignore=tests/crash --ignore=tests/api
  run_suite "API conformance (schemathesis)" . tests/api
  # Last: they kill -9 the shared servers (and bring them back with `make up`).
  run_suite "crash tests" . tests/crash
fi

echo
[ -z "$broken" ] || echo "FAILED:$broken"
echo "total: $passed passed, $failed failed"
[ -z "$broken" ]
