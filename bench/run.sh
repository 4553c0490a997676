#!/usr/bin/env bash
# `make bench`: the side-by-side benchmarks (direct vs Hydra vs nginx) are planned in issue #8.
echo "make bench: not built yet (planned in issue #8); nothing was measured." >&2
exit 2
