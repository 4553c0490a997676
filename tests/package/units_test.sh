#!/usr/bin/env bash
# package.units: systemd-analyze verify accepts both units of packaging/ (directives, values,
# that ExecStart= and ExecReload= are executables, and the man pages of Documentation=), with
# not one warning; their exposure (systemd-analyze security) stays low; the commands they run
# take the flags they are given. /usr/bin/hydra is not installed here: copies of the units run
# the built binary instead, and the man pages come from it (MANPATH).
# Usage: units_test.sh PACKAGING_DIR HYDRA
set -euo pipefail
packaging=$1
hydra=$(realpath "$2")
command -v systemd-analyze >/dev/null || { echo "package.units: skipped, no systemd-analyze (systemd)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package.units: $*" >&2; exit 1; }

mkdir -p "$tmp/man/man1"
timeout 10 "$hydra" man >"$tmp/man/man1/hydra.1"
for sub in $(timeout 10 "$hydra" man --list); do timeout 10 "$hydra" man "$sub" >"$tmp/man/man1/hydra-$sub.1"; done
units=(hydra.service hydra-agent.service)
for u in "${units[@]}"; do
  grep -q '^ExecStart=/usr/bin/hydra ' "$packaging/$u" || fail "$u does not start /usr/bin/hydra"
  sed "s|^ExecStart=/usr/bin/hydra |ExecStart=$hydra |" "$packaging/$u" >"$tmp/$u"
done

# verify: exit status 0 and no output (it reports unknown keys and bad values as warnings only).
verify() {
  local out
  out=$(cd "$tmp" && MANPATH="$tmp/man" timeout 30 systemd-analyze verify "$@" 2>&1) || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}
out=$(verify "${units[@]}") || fail "systemd-analyze verify: $out"
# The check itself catches a misspelled directive and a bad value.
sed 's/^ProtectHome=yes$/ProtectHomme=yes/' "$tmp/hydra.service" >"$tmp/misspelled.service"
sed 's/^Restart=on-failure$/Restart=sometimes/' "$tmp/hydra.service" >"$tmp/bad-value.service"
for bad in misspelled.service bad-value.service; do
  if verify "$bad" >/dev/null; then fail "systemd-analyze verify passes a broken unit ($bad)"; fi
done

# Exposure: 10 is unprotected; both units stay under 2.5 (the agent keeps the GPUs visible).
for u in "${units[@]}"; do
  timeout 30 systemd-analyze security --offline=yes --threshold=25 "$tmp/$u" >"$tmp/security" 2>&1 ||
    fail "$u is exposed: $(grep -F 'Overall exposure' "$tmp/security")"
done

# The commands run with the flags the units give them (--help: parse, print, exit 0).
timeout 10 "$hydra" serve --config /etc/hydra/hydra.toml --help >/dev/null || fail "hydra serve rejects the unit's flags"
# shellcheck disable=SC2016  # a literal $ in the unit
grep -q '^ExecStart=/usr/bin/hydra agent \$HYDRA_AGENT_ARGS$' "$packaging/hydra-agent.service" ||
  fail "hydra-agent.service does not pass \$HYDRA_AGENT_ARGS"
# Every variable the agent's defaults file names is one `hydra agent` reads.
for var in $(grep -oE '^#?HYDRA_[A-Z_]+=' "$packaging/hydra-agent.default" | tr -d '#=' | grep -v '^HYDRA_AGENT_ARGS$'); do
  timeout 10 "$hydra" man agent | grep -qF "Environment: $var." || fail "hydra agent does not read $var"
done
echo "package.units: both units verified, exposure under 2.5"
