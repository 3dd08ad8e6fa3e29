#!/usr/bin/env bash
# The whole test suite: set up (first call), then ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "${GOLDPATH_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)" "$@"
