#!/usr/bin/env bash
# The whole test suite. Sets up on the first call (packages, default model,
# build), then runs ctest on build/ (CPU tests; GPU tests skip and say why
# without a device; the fuzz targets replay their seeds and kept crash inputs).
# Arguments go to ctest (e.g. -R Tokenizer). Two more stages, opt-in for now:
#   GOLDPATH_FUZZ_SECONDS=N     every libFuzzer target for N seconds (scripts/fuzz.sh,
#                               clang + ASan/UBSan build in build-fuzz/)
#   GOLDPATH_SANITIZE_TESTS=1   the CPU suite again under AddressSanitizer +
#                               UndefinedBehaviorSanitizer in build-asan/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"

if [[ "${GOLDPATH_FUZZ_SECONDS:-0}" != "0" ]]; then
  echo "== fuzz: ${GOLDPATH_FUZZ_SECONDS} s per target"
  FUZZ_SECONDS="$GOLDPATH_FUZZ_SECONDS" bash "$root/scripts/fuzz.sh"
fi

if [[ "${GOLDPATH_SANITIZE_TESTS:-0}" == "1" ]]; then
  echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer: build-asan"
  GOLDPATH_BUILD_DIR="$root/build-asan" GOLDPATH_CMAKE_ARGS="-DGOLDPATH_SANITIZE=ON -DGOLDPATH_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
    bash "$root/scripts/setup.sh"
  (cd "$root/build-asan" && ctest --output-on-failure -j"$(nproc)")
fi

echo "== tests: ${GOLDPATH_BUILD_DIR:-$root/build}"
cd "${GOLDPATH_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)" "$@"
