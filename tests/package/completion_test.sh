#!/usr/bin/env bash
# package.completion: the script of `hydra completion bash` is loaded into bash and asked what it
# completes, as bash would ask it at a <TAB>.
# Usage: completion_test.sh HYDRA
set -euo pipefail
hydra=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package.completion: $*" >&2; exit 1; }

timeout 10 "$hydra" completion bash >"$tmp/hydra"
bash -n "$tmp/hydra" || fail "not valid bash"
# complete WORD...: the words offered for the last one (the one being typed).
complete_words() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 10 bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hydra; echo "${COMPREPLY[*]}"' \
    _ "$tmp/hydra" hydra "$@"
}
expect() {  # expect "WORDS" "OFFERED"
  local got
  # shellcheck disable=SC2086  # WORDS split on purpose
  got=$(complete_words $1)
  [ "$got" = "$2" ] || fail "hydra $1<TAB> offered \"$got\", not \"$2\""
}
expect "se" "serve"
expect "keys n" "new"
expect "keys new --a" "--admin"
expect "serve --li" "--listen"
expect "agent --regi" "--register"
all=$(complete_words "")
for w in serve sim agent keys --help --version; do [[ " $all " == *" $w "* ]] || fail "hydra <TAB> lacks $w: $all"; done
for w in man completion; do [[ " $all " != *" $w "* ]] || fail "hydra <TAB> offers the hidden $w"; done
# After an option that takes a value, nothing: bash completes file names (complete -o default).
[ -z "$(complete_words serve --config "")" ] || fail "hydra serve --config <TAB> offers words"
bash -c 'source "$1"; complete -p hydra' _ "$tmp/hydra" | grep -q -- '-o default -F _hydra hydra' ||
  fail "the script does not register _hydra for hydra"
echo "package.completion: bash completes sub-commands and options"
