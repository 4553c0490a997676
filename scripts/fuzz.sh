#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target (built in $FUZZ_DIR/fuzz by `make fuzz`) for FUZZ_S
# seconds, one after the other (one process each, no -jobs), starting from the repository's seed corpus fuzz/corpus/<target>/
# and growing a working corpus in $FUZZ_DIR/corpus/<target>/ (the repository is not touched).
# Crashes land in $FUZZ_DIR/crashes/<target>/; the script fails when any target crashed.
# Arguments: the targets to run (default: all). Logs: $FUZZ_DIR/logs/<target>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZ_DIR="${FUZZ_DIR:-build-fuzz}"
FUZZ_S="${FUZZ_S:-60}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
# Sanitizer findings are crashes; leaks are checked too (libFuzzer's -detect_leaks).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
for s in llvm-symbolizer-15 llvm-symbolizer; do
  if command -v "$s" >/dev/null; then export ASAN_SYMBOLIZER_PATH="$(command -v "$s")"; break; fi
done
failed=()
for t in "${targets[@]}"; do
  bin="$FUZZ_DIR/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: no binary $bin (run make fuzz)"; failed+=("$t"); continue; }
  mkdir -p "$FUZZ_DIR/corpus/$t" "$FUZZ_DIR/crashes/$t" "$FUZZ_DIR/logs"
  log="$FUZZ_DIR/logs/$t.log"
  echo "fuzz: $t for ${FUZZ_S}s"
  # -max_len: requests and replies worth fuzzing are small; 64 KiB covers the header limit.
  "$bin" -max_total_time="$FUZZ_S" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/crashes/$t/" \
    "$FUZZ_DIR/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)|cov: ' "$log" | tail -3
  if [ $rc -ne 0 ] || ls "$FUZZ_DIR/crashes/$t"/* >/dev/null 2>&1; then
    echo "fuzz: $t FOUND A CRASH (rc $rc): see $log and $FUZZ_DIR/crashes/$t/"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, no finding"
