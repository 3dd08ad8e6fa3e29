#!/usr/bin/env bash
# Set-up used by the README's two commands: installs missing apt packages,
# fetches the default model and the cuDNN frontend headers, configures and
# builds (incrementally: a second run reuses everything already there).
#   GOLDPATH_BUILD_DIR   build folder (default: build)
#   GOLDPATH_CUDA_ARCHS  CUDA architectures (default: 75;80-real;86-real;89-real;90-real)
#   GOLDPATH_CMAKE_ARGS  extra cmake arguments
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${GOLDPATH_BUILD_DIR:-$root/build}"

pkgs=(build-essential cmake git pkg-config python3 python3-venv
      libhdf5-dev libeigen3-dev nlohmann-json3-dev libcli11-dev
      libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libpcre2-dev
      libclang-rt-14-dev libboost-context-dev)  # boost-context: sim/ fibers; clang-rt: its FuzzedDataProvider.h: the golden_struct_fuzz replay test
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

bash "$root/scripts/fetch_model.sh"
# optional: without it the build has no cuDNN fused attention, and says so
bash "$root/scripts/fetch_cudnn_frontend.sh" ||
  echo "setup: could not fetch the cuDNN frontend headers; this build will have no cuDNN fused attention" >&2

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  args=(-DCMAKE_BUILD_TYPE=Release)
  [[ -n "${GOLDPATH_CUDA_ARCHS:-}" ]] && args+=("-DGOLDPATH_CUDA_ARCHS=${GOLDPATH_CUDA_ARCHS}")
  # shellcheck disable=SC2206
  [[ -n "${GOLDPATH_CMAKE_ARGS:-}" ]] && args+=(${GOLDPATH_CMAKE_ARGS})
  cmake -S "$root" -B "$build" "${args[@]}" >/dev/null
fi
cmake --build "$build" -j"$(nproc)"
