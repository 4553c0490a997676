#!/usr/bin/env bash
# package.deb: packs the build tree (cpack, as `make package` does) into a scratch directory and
# checks the .deb with dpkg's tools: the files it holds, its control data (Depends from
# dpkg-shlibdeps, conffiles, scripts), and that the binary it installs runs and accepts the
# hydra.toml it installs.
# Usage: deb_test.sh BUILD_DIR VERSION
set -euo pipefail
build=$1
version=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package.deb: $*" >&2; exit 1; }

if ! timeout 240 cpack --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1; then
  cat "$tmp/cpack.log" >&2
  fail "cpack failed"
fi
deb="$tmp/out/hydra_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "no $(basename "$deb") in: $(ls "$tmp/out")"

# What it installs: dpkg -x is dpkg's own unpacking, without the scripts (no root needed).
timeout 60 dpkg -x "$deb" "$tmp/root"
root=$tmp/root
out=$(timeout 10 "$root/usr/bin/hydra" --version) || fail "the packaged hydra --version failed"
[[ $out == "hydra $version ("* ]] || fail "hydra --version said: $out"
if readelf -S --wide "$root/usr/bin/hydra" | grep -q '\.debug_info'; then fail "usr/bin/hydra is not stripped"; fi
# The example configuration is a valid one (read without any HYDRA_* variable of this shell).
if ! env -i PATH=/usr/bin:/bin HOME="$tmp" timeout 10 "$root/usr/bin/hydra" config check "$root/etc/hydra/hydra.toml" \
     >"$tmp/check.log" 2>&1; then
  cat "$tmp/check.log" >&2
  fail "hydra config check rejects the packaged /etc/hydra/hydra.toml"
fi
# The service's data directory is set in the file (the unit does not override it).
grep -Eq '^data_dir = "/var/lib/hydra" +# .*/etc/hydra/hydra\.toml$' "$tmp/check.log" ||
  fail "the packaged hydra.toml does not set data_dir to /var/lib/hydra: $(grep '^data_dir' "$tmp/check.log")"

# The file list: the binary, both units, the configuration, a man page per sub-command, completion.
timeout 30 dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/list"
expected=(./usr/bin/hydra ./lib/systemd/system/hydra.service ./lib/systemd/system/hydra-agent.service
          ./etc/hydra/hydra.toml ./etc/default/hydra-agent ./usr/share/man/man1/hydra.1.gz
          ./usr/share/bash-completion/completions/hydra ./usr/share/doc/hydra/README.md)
subs=$(timeout 10 "$root/usr/bin/hydra" man --list)
for sub in $subs; do expected+=("./usr/share/man/man1/hydra-$sub.1.gz"); done
[ "$(wc -w <<<"$subs")" -ge 8 ] || fail "hydra man --list named too few sub-commands: $subs"
for f in "${expected[@]}"; do grep -qxF "$f" "$tmp/list" || fail "$f is not in the package"; done
gzip -t "$root"/usr/share/man/man1/*.gz || fail "a man page is not a valid gzip file"

# Control data: dependencies found by dpkg-shlibdeps (libc6 at least) and adduser for postinst,
# the configuration files dpkg keeps across upgrades, executable maintainer scripts.
timeout 30 dpkg-deb -I "$deb" >"$tmp/info"
grep -Eq '^ Depends: .*libc6 \(>= ' "$tmp/info" || fail "no libc6 in Depends: $(grep Depends "$tmp/info")"
grep -Eq '^ Depends: .*adduser' "$tmp/info" || fail "no adduser in Depends"
grep -Eq '^ Section: net$' "$tmp/info" || fail "not in section net"
grep -Eq '^ Maintainer: .+<.+@.+>' "$tmp/info" || fail "no maintainer"
grep -Eq '^ .* conffiles *$' "$tmp/info" || fail "no conffiles in the control archive"
conffiles=$(dpkg-deb -I "$deb" conffiles)
grep -qxF /etc/hydra/hydra.toml <<<"$conffiles" || fail "/etc/hydra/hydra.toml is not a conffile: $conffiles"
grep -qxF /etc/default/hydra-agent <<<"$conffiles" || fail "/etc/default/hydra-agent is not a conffile"
dpkg-deb -e "$deb" "$tmp/control"
for s in postinst prerm postrm; do
  [ -x "$tmp/control/$s" ] || fail "$s is missing or not executable"
  sh -n "$tmp/control/$s" || fail "$s is not a valid sh script"
done
echo "package.deb: $(basename "$deb") holds ${#expected[@]} expected files; $(grep '^ Depends:' "$tmp/info")"
