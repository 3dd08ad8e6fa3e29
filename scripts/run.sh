#!/usr/bin/env bash
# The main job: set up (first call), then `goldpath run` on the default model.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
exec "${GOLDPATH_BUILD_DIR:-$root/build}/harness/goldpath" run "$@"
