#!/usr/bin/env bash
# Prints a Markdown table of the last `make fuzz` run of each target, from build-fuzz/logs/:
# time, executions, edges and features covered, corpus size, peak memory, and the outcome.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZ_DIR="${FUZZ_DIR:-build-fuzz}"
echo "| target | seconds | executions | exec/s | edges (cov) | features (ft) | corpus | peak RSS | outcome |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"
for log in "$FUZZ_DIR"/logs/*.log; do
  t=$(basename "$log" .log)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.*corp: \([^ ]*\).*/\1/p' <<<"$last")
  secs=$(sed -n 's/.*-max_total_time=\([0-9]*\).*/\1/p' "$log" | head -1)
  if grep -qE '^SUMMARY: |ERROR: libFuzzer' "$log"; then
    outcome="finding: $(grep -m1 -E '^SUMMARY: ' "$log" | cut -c10-)"
  else
    outcome="no finding"
  fi
  done_secs=$(grep -m1 -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE '[0-9]+ second' | cut -d' ' -f1)
  echo "| $t | ${done_secs:-${secs:-?}} | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${rss:-?} MB | $outcome |"
done
