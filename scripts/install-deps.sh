#!/usr/bin/env bash
# Installs the Debian bookworm packages Hydra builds and tests with.
# Usage: install-deps.sh [fuzz]. Idempotent and quiet: prints nothing and touches nothing when all is present.
# Never installs the Boost 1.74 default packages (no coroutine support; they conflict with 1.81).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libsqlite3-dev libsqlitecpp-dev
  libhiredis-dev redis-server  # the state several gateways share and the cache's shared tier (hiredis); tests start their own redis-server on loopback
  libgtest-dev libgmock-dev libbenchmark-dev
  libjemalloc-dev  # the hydra binary's allocator (CMakeLists.txt says why)
  libssl-dev openssl  # TLS (Boost.Asio SSL over OpenSSL); tests make throwaway certificates with `openssl`
  curl
  prometheus   # promtool, to check the /metrics exposition in tests
  nginx  # the plain reverse proxy `make bench` compares with, and the one in front of several gateways in tests; each runs its own on loopback
  chromium     # the dashboard's browser test drives Debian's build (playwright-core downloads none)
  dpkg-dev systemd groff-base man-db  # `make package`: dpkg-shlibdeps; its tests: systemd-analyze verify, groff, man
)
# `make fuzz` (argument "fuzz"): clang 15 and its libFuzzer, only then (CI does not fuzz);
# llvm-15 brings llvm-symbolizer-15 for readable crash stacks.
if [ "${1:-}" = "fuzz" ]; then packages+=(clang-15 libfuzzer-15-dev llvm-15); fi
# Node.js + npm (for the client and browser tests): Debian's, unless a node with npm is already there.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Refresh package lists only when they are absent or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
