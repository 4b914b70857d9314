#!/usr/bin/env bash
# Fuzzes every file reader (tests/fuzz/readers.c: checkpoints, classifier files, IDX, CIFAR-10,
# image folders, metrics.jsonl, config.json) with libFuzzer under ASan and UBSan, starting from the
# seed corpus and the regressions. Builds build-fuzz/ with clang; new corpus inputs go to
# build-fuzz/corpus, crashing inputs to tests/fuzz/crashes/ (keep each as a regression:
# tests/fuzz/regressions/, replayed by vkgan_tests). Prints the number of executions.
# Usage: tools/fuzz.sh [seconds] [more libFuzzer options]   (default 300 seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKGAN_FUZZ=ON >/dev/null
cmake --build build-fuzz --target vkgan_fuzz -j "$(nproc)" -- --no-print-directory >/dev/null
mkdir -p build-fuzz/corpus tests/fuzz/crashes
# the readers' files live in RAM while fuzzing when /dev/shm is there
if [ -z "${TMPDIR:-}" ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
log=build-fuzz/fuzz.log
before=$(ls tests/fuzz/crashes | wc -l)
# fork mode, one job at a time: a crash, timeout or out-of-memory is saved and fuzzing goes on
set +e
build-fuzz/vkgan_fuzz -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
  -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -dict=tests/fuzz/readers.dict \
  -artifact_prefix=tests/fuzz/crashes/ "$@" build-fuzz/corpus tests/fuzz/corpus \
  tests/fuzz/regressions >"$log" 2>&1
rc=$?
set -e
grep -E "^#[0-9]+: " "$log" | tail -3
runs=$(sed -n 's/^#\([0-9]*\): .*/\1/p' "$log" | tail -1)
crashes=$(($(ls tests/fuzz/crashes | wc -l) - before))
echo "fuzz: ${runs:-?} executions in ${seconds} s, ${crashes} new inputs in tests/fuzz/crashes/," \
  "exit code $rc (log: $log)"
exit "$rc"
