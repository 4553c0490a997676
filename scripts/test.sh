#!/usr/bin/env bash
# Runs every test: C++ unit and integration tests, and the official-client end-to-end tests.
# Called by `make test` after the build; installs the pinned npm packages the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tests/e2e/package-lock.json ] && [ ! -d tests/e2e/node_modules ]; then
  echo "test: installing the pinned npm client packages for the end-to-end tests"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
ctest --test-dir "${BUILD_DIR:-build}" -j "$(nproc)" --output-on-failure --timeout 300
