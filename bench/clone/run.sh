#!/usr/bin/env bash
# Benchmarks calctl clone against the git CLI (see README.md here).
# Usage: bench/clone/run.sh [RUNS] [BENCH]   RUNS alternating pairs (default 3);
#        BENCH a -bench pattern (default: both modes, 'CloneRealistic$|Clone$').
# Env: CALCTL_BENCH_FILES, CALCTL_BENCH_COMMITS, CALCTL_BENCH_MB, CALCTL_BENCH_CACHE.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec go test -run '^$' -bench "${2:-CloneRealistic\$|Clone\$}" -benchtime "${1:-3}x" -timeout 90m ./bench/clone
