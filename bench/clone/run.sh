#!/usr/bin/env bash
# Benchmarks calctl clone against git clone (see clone_bench_test.go).
# Usage: bench/clone/run.sh [RUNS]   (env CALCTL_BENCH_FILES, CALCTL_BENCH_MB)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec go test -run '^$' -bench BenchmarkClone -benchtime "${1:-3}x" -timeout 60m ./bench/clone
