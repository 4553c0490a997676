#!/usr/bin/env bash
# Runs every test: C++ unit and integration tests, and the official-client end-to-end tests.
# Called by `make test` after the build; installs the pinned npm packages when missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm writes node_modules/.package-lock.json; when the pinned lock differs, install again.
if [ -f tests/e2e/package-lock.json ] &&
   { [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; }; then
  echo "test: installing the pinned npm client packages for the end-to-end tests"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
# CTEST_EXCLUDE: a regular expression of test names to leave out (make check uses it).
ctest --test-dir "${BUILD_DIR:-build}" -j "$(nproc)" --output-on-failure --timeout 300 \
  ${CTEST_EXCLUDE:+-E "$CTEST_EXCLUDE"}
