#!/usr/bin/env bash
# The write-path benchmark (README, "Benchmarks"): installs wrk from Debian's archive when it
# is missing, then builds the release binary and prints the figures. Loopback only; about
# two minutes of load after the build. Pass other benches' names to run them too:
#   scripts/bench.sh            # writepath
#   scripts/bench.sh load webhooks autoreply
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh
ensure_cxx

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk (Debian's package)"
  apt_install wrk
fi
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(writepath)
for b in "${benches[@]}"; do
  case "$b" in
    # dhat counts every allocation of that build: a feature of its own, never the shipped binary.
    heap) cargo bench -p server --bench heap --features heap-profile ;;
    *) cargo bench -p server --bench "$b" ;;
  esac
done
