#!/usr/bin/env bash
# `make check`: runs the whole test suite (scripts/test.sh) against the ASan+UBSan build in
# $BUILD_DIR (build-asan). Every sanitizer report fails the run, also one from a `hydra`
# process that a test started and whose exit status nobody reads (the e2e suites): reports
# go to files under $BUILD_DIR/sanitizer/, which must be empty at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-asan}"
reports="$PWD/$BUILD_DIR/sanitizer"
rm -rf "$reports"
mkdir -p "$reports"
# detect_leaks: LeakSanitizer at every exit. The suppressions file names only third-party code.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:check_initialization_order=1:log_path=$reports/asan"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
status=0
# Left to the plain suite: the benchmark tools' smoke tests, bench.* (minutes of load whose code paths
# the gateway tests cover) and the Debian package's checks (they inspect files, not memory).
CTEST_EXCLUDE="${CTEST_EXCLUDE-^(bench\.|package\.)}" BUILD_DIR="$BUILD_DIR" bash scripts/test.sh || status=$?
source scripts/sanitizer_reports.sh
finish_with_reports "$reports" "$status"
