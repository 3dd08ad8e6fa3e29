#!/usr/bin/env bash
# gpu_bundle.sh: prepares, on a machine with apt and a network, what the GPU
# check (scripts/gpu_check.sh) needs on a bare GPU machine that has the CUDA
# toolkit, CMake, ninja and python3 but no apt and no network.
#
#   bash scripts/gpu_bundle.sh            # .gpu-deps/: the Debian packages the build needs
#   bash scripts/gpu_bundle.sh --model    # .gpu-model/: the default model in parts, and a plan
#
# .gpu-deps/ holds the packages (HDF5 C/C++, Eigen3, nlohmann-json, CLI11,
# OpenSSL, PCRE2, GoogleTest, Google Benchmark, pkgconf) fetched with
# `apt-get download` and unpacked with `dpkg -x` into .gpu-deps/root/, plus
# every shared library they load (found with ldd, closed transitively), minus
# glibc, libgcc and libstdc++; docs, man pages and unused static libraries are
# dropped. cuDNN headers are copied when this machine has them (the GPU
# machine's cuDNN libraries come from its own python packages), and the cuDNN
# frontend headers (scripts/fetch_cudnn_frontend.sh) go to
# .gpu-deps/cudnn_frontend/include. The GPU check exposes a bundled library
# only when that machine lacks its soname.
#
# The default model (98 MB) is more than one device call carries (64 MiB with
# the working tree), so --model splits it into parts sized from the measured
# working tree and bundle, and prints which call carries what: each call
# stashes its part in ~/.cache/goldpath/ there; the last one joins them and
# checks sha256 against scripts/default_model.sha256.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.gpu-deps"
tarball="$root/.gpu-deps.tar.gz"
model_dir="$root/.gpu-model"
model_name="SmolLM2-135M-Instruct.Q4_1.gguf"
carry_limit=$((64 * 1024 * 1024))
carry_margin=$((2 * 1024 * 1024))  # headroom for files written between now and the call

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

mode=deps
case "${1:-}" in
  "") ;;
  --model) mode=model ;;
  -h | --help) usage 0 ;;
  *) echo "gpu_bundle.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
esac

# bytes that travel with every call: tracked files plus untracked files that
# git does not ignore (what the device tool copies), without carried paths
tree_bytes() {
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -r stat -c %s -- 2>/dev/null | awk '{s += $1} END {print s + 0}')
}
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
dir_bytes() { du -sb "$1" | cut -f1; }

# ---------------------------------------------------------------- model parts
if [[ "$mode" == model ]]; then
  bash "$root/scripts/fetch_model.sh"
  src="$root/models/$model_name"
  sha="$(cat "$root/scripts/default_model.sha256")"
  echo "$sha  $src" | sha256sum -c --status || { echo "gpu_bundle.sh: $src does not match scripts/default_model.sha256" >&2; exit 1; }
  tree=$(tree_bytes)
  bundle=0
  [[ -f "$tarball" ]] && bundle=$(stat -c %s "$tarball")
  size=$(stat -c %s "$src")
  budget=$((carry_limit - carry_margin - tree))
  room_last=$((budget - bundle))  # the last call carries the deps tarball too
  ((room_last > 0)) || { echo "gpu_bundle.sh: the working tree and .gpu-deps.tar.gz leave no room for the model" >&2; exit 1; }
  # the first parts as large as a call allows, the last one small enough to
  # travel beside the deps tarball in the call that runs the check
  if ((size <= room_last)); then
    part=$size
  else
    first=$(((size - room_last + budget - 1) / budget))  # how many full-size parts
    part=$(((size - room_last + first - 1) / first))
    ((part >= (size + first) / (first + 1))) || part=$(((size + first) / (first + 1)))
  fi
  n=$(((size + part - 1) / part))
  rm -rf "$model_dir"
  mkdir -p "$model_dir"
  # parts are named NAME.partK-of-N so the check knows when it has them all
  split -b "$part" -d -a 2 "$src" "$model_dir/$model_name.tmp"
  names=()
  for f in "$model_dir/$model_name".tmp*; do
    k=$((10#${f##*.tmp} + 1))
    mv "$f" "$model_dir/$model_name.part$k-of-$n"
    names+=(".gpu-model/$model_name.part$k-of-$n")
  done
  echo "model: $(mib "$size") in $n parts of at most $(mib "$part"); working tree $(mib "$tree"), .gpu-deps $(mib "$bundle")"
  echo "device calls, back to back (a machine stays warm about 30 s; a fresh one has lost the earlier parts):"
  over=0
  for ((k = 0; k < n; k++)); do
    travels=$((tree + $(stat -c %s "$root/${names[$k]}")))
    if ((k < n - 1)); then
      echo "  call $((k + 1)): carry [\"${names[$k]}\"]  command: bash scripts/gpu_check.sh --stash-model"
    else
      travels=$((travels + bundle))
      echo "  call $n: carry [\".gpu-deps.tar.gz\", \"${names[$k]}\"]  command: bash scripts/gpu_check.sh"
    fi
    echo "          travels: $(mib "$travels")"
    ((travels <= carry_limit)) || { echo "gpu_bundle.sh: call $((k + 1)) is over 64 MiB" >&2; over=1; }
  done
  exit "$over"
fi

# --------------------------------------------------------------- deps bundle
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
  { echo "gpu_bundle.sh: needs apt-get and dpkg-deb (Debian/Ubuntu)" >&2; exit 1; }
arch="$(dpkg --print-architecture)"
[[ "$arch" == amd64 ]] || { echo "gpu_bundle.sh: the GPU machine is x86-64; this machine is $arch" >&2; exit 1; }
multiarch="x86_64-linux-gnu"

# headers, CMake configs, pkg-config files and link-time symlinks
dev_pkgs=(libhdf5-dev libeigen3-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
          libbenchmark-dev libssl-dev libpcre2-dev pkgconf-bin)
# the shared libraries behind them; their own dependencies are found with ldd below
lib_pkgs=(libhdf5-103-1 libhdf5-cpp-103-1 libbenchmark1debian libssl3 libpcre2-8-0 libpkgconf3)
# present wherever a C++ compiler is, and newer there: never bundled
base_pkgs=" libc6 libgcc-s1 libstdc++6 "

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/root"
mkdir -p "$stage" "$work/debs"
chmod 755 "$work" && chmod 777 "$work/debs"  # apt-get download runs as _apt

declare -A have=()
fetch() {  # apt-get download + dpkg -x for packages not fetched yet
  local todo=() p
  for p in "$@"; do [[ -z "${have[$p]:-}" ]] && todo+=("$p"); done
  ((${#todo[@]})) || return 0
  echo "gpu_bundle.sh: downloading ${todo[*]}" >&2
  (cd "$work/debs" && apt-get download -q "${todo[@]}" >/dev/null)
  for p in "${todo[@]}"; do
    have[$p]=1
    local deb
    deb=$(ls "$work/debs/${p}_"*.deb)
    dpkg-deb -x "$deb" "$stage"
    dpkg-deb -f "$deb" Package Version | paste -sd' ' >>"$work/manifest"
  done
}

if ! apt-cache show "${dev_pkgs[0]}" >/dev/null 2>&1; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -q >/dev/null
fi
fetch "${dev_pkgs[@]}" "${lib_pkgs[@]}"

# close over ELF dependencies: every library a bundled binary or library
# needs that resolves outside the bundle comes from a package we fetch too
libdirs="$stage/usr/lib/$multiarch:$stage/lib/$multiarch"
for _ in 1 2 3 4 5 6 7 8; do  # a few rounds close the graph
  new=()
  while IFS= read -r f; do
    while IFS= read -r line; do
      case "$line" in
        *"not found"*) echo "gpu_bundle.sh: $f: $line (install it here, then rerun)" >&2; exit 1 ;;
      esac
      path=$(awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<<"$line")
      [[ -n "$path" && "$path" != "$stage"/* ]] || continue
      pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null ||
            dpkg -S "/usr$path" 2>/dev/null || true)
      pkg=${pkg%%:*}
      [[ -n "$pkg" ]] || { echo "gpu_bundle.sh: no package owns $path (needed by $f)" >&2; exit 1; }
      [[ "$base_pkgs" == *" $pkg "* || -n "${have[$pkg]:-}" ]] && continue
      new+=("$pkg")
    done < <(LD_LIBRARY_PATH="$libdirs" ldd "$f" 2>/dev/null || true)
  done < <(find "$stage" -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print)
  ((${#new[@]})) || break
  mapfile -t new < <(printf '%s\n' "${new[@]}" | sort -u)
  fetch "${new[@]}"
done

# trim: documentation, what the build never uses, static libraries other than
# those the CMake configs name (GoogleTest ships static only; benchmark_main)
rm -rf "${stage:?}"/usr/share/{doc,man,info,lintian,bug,bash-completion,aclocal} "${stage:?}"/etc
rm -rf "$stage"/usr/lib/"$multiarch"/{gconv,sasl2,engines-3,ossl-modules}
rm -rf "$stage"/usr/include/eigen3/unsupported  # 3 MB the project does not use
find "$stage" \( -name '*.a' ! -name 'libgtest*.a' ! -name 'libgmock*.a' ! -name 'libbenchmark_main.a' \) -delete
find "$stage" \( -name '*fortran*' -o -name '*.mod' \) -exec rm -rf {} +
find "$stage" -path '*/bin/*' ! -name pkgconf -delete
# absolute symlinks would point outside the bundle once it moves: make them relative
while IFS= read -r l; do
  t=$(readlink "$l")
  [[ "$t" == /* ]] || continue
  ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$stage$t")" "$l"
done < <(find "$stage" -type l)
find "$stage" -xtype l -delete  # links to what was trimmed
find "$stage" -depth -type d -empty -delete

# cuDNN headers, a fallback for a machine whose cuDNN package has none
cudnn_inc=""
for d in /usr/local/cuda/include /usr/include /usr/include/"$multiarch"; do
  [[ -f "$d/cudnn.h" ]] && { cudnn_inc="$d"; break; }
done
if [[ -n "$cudnn_inc" ]]; then
  mkdir -p "$work/cudnn/include"
  cp -L "$cudnn_inc"/cudnn*.h "$work/cudnn/include/"
fi

# cuDNN frontend headers (header-only; cuDNN's fused attention needs them):
# the pinned PyPI wheel's, fetched into third_party/ when not there yet
bash "$root/scripts/fetch_cudnn_frontend.sh"
fe="$root/third_party/cudnn_frontend"
mkdir -p "$work/cudnn_frontend"
cp -r "$fe/include" "$fe/SOURCE" "$work/cudnn_frontend/"

rm -rf "$deps"
mkdir -p "$deps"
mv "$stage" "$deps/root"
[[ -d "$work/cudnn" ]] && mv "$work/cudnn" "$deps/cudnn"
mv "$work/cudnn_frontend" "$deps/cudnn_frontend"
sort "$work/manifest" >"$deps/PACKAGES"
{
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "commit: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "dirty: $([[ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]] && echo yes || echo no)"
  [[ -n "$cudnn_inc" ]] && echo "cudnn headers: $cudnn_inc ($(awk '/define CUDNN_(MAJOR|MINOR|PATCHLEVEL) /{printf "%s%s", s, $3; s="."}' "$cudnn_inc/cudnn_version.h"))"
  echo "cudnn frontend headers: $(cut -d' ' -f1 "$fe/SOURCE")"
  true
} >"$deps/SOURCE"

# what travels: one gzip tarball (a third of the unpacked size)
tar -C "$deps" -czf "$tarball.tmp" . && mv -f "$tarball.tmp" "$tarball"
tree=$(tree_bytes)
bundle=$(stat -c %s "$tarball")
echo "gpu_bundle.sh: $deps: $(wc -l <"$deps/PACKAGES") packages, $(mib "$(dir_bytes "$deps")") unpacked"
echo "gpu_bundle.sh: $tarball: $(mib "$bundle"); working tree $(mib "$tree") + tarball = $(mib $((tree + bundle))) of the 64 MiB a call carries"
echo "next: carry [\".gpu-deps.tar.gz\"], command: bash scripts/gpu_check.sh   (bash scripts/gpu_bundle.sh --model for the default model)"
