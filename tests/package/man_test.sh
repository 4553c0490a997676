#!/usr/bin/env bash
# package.man: every page `hydra man` writes (hydra(1), and hydra-SUB(1) for each sub-command of
# `hydra man --list`) renders with groff without a single warning (-ww), holds no text line
# that roff would take for a request (the escaping), and says what the CLI defines.
# Usage: man_test.sh HYDRA
set -euo pipefail
hydra=$1
command -v groff >/dev/null || { echo "package.man: skipped, groff is not installed (groff-base)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package.man: $*" >&2; exit 1; }

subs=$(timeout 10 "$hydra" man --list)
version=$(timeout 10 "$hydra" --version | cut -d' ' -f2)
# shellcheck disable=SC2086  # one name a word
for page in hydra $(printf 'hydra-%s ' $subs); do
  if [ "$page" = hydra ]; then timeout 10 "$hydra" man >"$tmp/$page.1"
  else timeout 10 "$hydra" man "${page#hydra-}" >"$tmp/$page.1"; fi
  timeout 10 groff -man -Tutf8 -ww -z "$tmp/$page.1" 2>"$tmp/warnings" || fail "groff failed on $page.1"
  [ ! -s "$tmp/warnings" ] || fail "groff warns on $page.1: $(cat "$tmp/warnings")"
  # Only the requests the generator writes may start a line ('\'' never does).
  if { grep -nE "^'" "$tmp/$page.1"; grep -nE '^\.' "$tmp/$page.1" | grep -vE '^[0-9]+:\.(TH|SH|SS|TP|PP|br|BR)( |$)'; } \
       >"$tmp/odd"; then
    fail "$page.1 has lines roff reads as requests: $(cat "$tmp/odd")"
  fi
  title=${page^^}
  [ "$(head -1 "$tmp/$page.1")" = ".TH \"${title//-/\\-}\" \"1\" \"\" \"hydra $version\" \"Hydra Manual\"" ] ||
    fail "$page.1 starts: $(head -1 "$tmp/$page.1")"
  # whatis and apropos find the page by its NAME line.
  timeout 10 lexgrog "$tmp/$page.1" | grep -qF ": \"$page - " || fail "lexgrog cannot read the NAME of $page.1"
  # What man itself shows (no pager, no formatting characters).
  MANWIDTH=100 timeout 10 man -l -P cat "$tmp/$page.1" 2>/dev/null | col -b >"$tmp/$page.txt"
  grep -q "^NAME" "$tmp/$page.txt" || fail "man -l shows no NAME section for $page.1"
done

text() { grep -qF -- "$2" "$tmp/$1.txt" || fail "$1(1) does not say: $2"; }
text hydra "hydra-serve(1)"
text hydra "--version"
text hydra "run the gateway in front of a fleet of Ollama nodes"
text hydra-serve "--config"
text hydra-serve "HYDRA_DATA_DIR"  # the footer: environment variables
text hydra-agent "--listen TEXT"
text hydra-agent "Default: 0.0.0.0:11435."
text hydra-agent "Environment: HYDRA_AGENT_LISTEN."
text hydra-keys "hydra keys new [OPTIONS] name"
text hydra-keys "--admin"
# The hidden documentation commands document nothing of themselves.
if grep -qE '^(man|completion)$' <<<"$subs"; then fail "hydra man --list names hidden commands: $subs"; fi
echo "package.man: $(wc -w <<<"hydra $subs") pages render without warnings"
