# Sourced by scripts/check.sh and scripts/check_tsan.sh: `finish_with_reports DIR STATUS` prints
# every sanitizer report written under DIR and exits 1 when there is one, else exits STATUS.
finish_with_reports() {
  local dir=$1 status=$2
  shopt -s nullglob
  local found=("$dir"/*)
  if [ ${#found[@]} -gt 0 ]; then
    echo "check: ${#found[@]} sanitizer report(s):"
    for f in "${found[@]}"; do
      echo "=== $f"
      head -c 20000 "$f"
    done
    exit 1
  fi
  exit "$status"
}
