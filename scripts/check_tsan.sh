#!/usr/bin/env bash
# `make check`, second part: the gateway's integration tests (tests/api, built normally in
# build/) against a `hydra` built with ThreadSanitizer ($TSAN_DIR, default build-tsan), serving
# on 4 threads (the control thread and 3 workers). Every gateway and sim those tests start is the
# TSan binary (HYDRA_BIN); any data race it reports fails the run: reports go to files under
# $TSAN_DIR/sanitizer/, which must be empty at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
TSAN_DIR="${TSAN_DIR:-build-tsan}"
TESTS="${BUILD_DIR:-build}/tests/gateway_tests"
[ -x "$TESTS" ] || { echo "check: $TESTS is missing (make build first)" >&2; exit 1; }
reports="$PWD/$TSAN_DIR/sanitizer"
rm -rf "$reports"
mkdir -p "$reports"
export HYDRA_BIN="$PWD/$TSAN_DIR/hydra"
export HYDRA_THREADS="${HYDRA_THREADS:-4}"
# second_deadlock_stack: both stacks of a lock-order report. history_size: longer histories
# for races between a worker and the control thread far apart in time.
export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=0:second_deadlock_stack=1:history_size=4:suppressions=$PWD/scripts/tsan.supp"
status=0
# Left to the ASan suite: the chaos test (40 s of kills and restarts, whose timing TSan's
# slowdown breaks) and the tests that measure the gateway's memory (TSan's shadow memory
# swamps what they measure) or take minutes of churn.
"$TESTS" --gtest_filter="${TSAN_FILTER:--Chaos.*:BigBodies.*:UnknownModels.*:Churn.*}" --gtest_brief=1 || status=$?
source scripts/sanitizer_reports.sh
finish_with_reports "$reports" "$status"
