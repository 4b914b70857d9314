#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite on lavapipe, Mesa's CPU Vulkan driver,
# with the validation layer and synchronization validation on.
# Usage: tools/test.sh [--sanitize]   (--sanitize: the ASan+UBSan build in build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh "$@"
build_dir=build
[ "${1:-}" = "--sanitize" ] && build_dir=build-asan
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"
export VKGAN_VALIDATION=1
if [ "$build_dir" = build-asan ]; then
  # Leaks inside the Vulkan driver and layers are not ours to fix; ours are still reported.
  # A 64 MiB quarantine (256 by default) still holds a freed block through many allocations
  # after it, and each vkgan process the suite starts runs 15-25 % faster without the page
  # faults of a quarantine full of freed datasets and driver memory (docs/PERF.md, Test suite).
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:quarantine_size_mb=64"
  export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
"$build_dir/vkgan" selfcheck
if [ "$build_dir" = build-asan ]; then
  # The ring8 training test runs the code the fast GAN tests cover for 9 minutes more; under the
  # sanitizers it would add time, not coverage.
  "$build_dir/vkgan_tests" --exclude ring8
else
  "$build_dir/vkgan_tests"
fi
