#!/usr/bin/env bash
# gpu_bundle.sh: for a GPU machine without network or apt, prepares what the
# GPU check (scripts/gpu_check.sh) would otherwise install or download there.
# Run it on a Debian/Ubuntu x86-64 machine with apt and a network, of the same
# release as the GPU machine (or an older one: the bundle's libraries need its
# glibc), then carry the results into the GPU machine's checkout. A GPU machine
# that has the packages scripts/setup.sh names, or can install them, needs none
# of this.
#
#   bash scripts/gpu_bundle.sh                          # .gpu-deps.tar.gz: the Debian packages the build needs
#   bash scripts/gpu_bundle.sh --model                  # .gpu-model/: the default model, one file
#   bash scripts/gpu_bundle.sh --model --max-part-size 60MiB   # .gpu-model/: the model in parts of at most 60 MiB
#
# --max-part-size SIZE: bytes, or with K/M/G (also KiB/MiB/GiB: powers of 1024)
# or KB/MB/GB (powers of 1000); default: no split. Parts are named
# NAME.partK-of-N; gpu_check.sh joins them and checks sha256 against
# scripts/default_model.sha256. Parts that travel one at a time are kept on the
# GPU machine by `bash scripts/gpu_check.sh --stash-model` (in
# ~/.cache/goldpath/) until all are there.
#
# .gpu-deps/ (packed as .gpu-deps.tar.gz) holds the packages (HDF5 C/C++,
# Eigen3, nlohmann-json, CLI11, OpenSSL, PCRE2, GoogleTest, Google Benchmark,
# pkgconf) fetched with `apt-get download` and unpacked with `dpkg -x` into
# .gpu-deps/root/, plus every shared library they load (found with ldd, closed
# transitively), minus glibc, libgcc and libstdc++; docs, man pages and unused
# static libraries are dropped. cuDNN headers are copied when this machine has
# them (the GPU machine's cuDNN libraries come from its system or its python
# package nvidia-cudnn), and the cuDNN frontend headers
# (scripts/fetch_cudnn_frontend.sh) go to .gpu-deps/cudnn_frontend/include.
# The GPU check exposes a bundled library only where that machine lacks its
# soname.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.gpu-deps"
tarball="$root/.gpu-deps.tar.gz"
model_dir="$root/.gpu-model"
model_name="SmolLM2-135M-Instruct.Q4_1.gguf"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
dir_bytes() { du -sb "$1" | cut -f1; }
# bytes SIZE: "62914560", "60MiB", "60M", "60MB", "1.5GiB" -> bytes (empty when not a size)
bytes() {
  awk -v s="$1" 'BEGIN {
    if (!match(s, /^[0-9]+(\.[0-9]+)?/)) exit
    n = substr(s, 1, RLENGTH); u = toupper(substr(s, RLENGTH + 1)); sub(/^ +/, "", u)
    if (u == "" || u == "B") m = 1
    else if (u == "K" || u == "KIB") m = 1024
    else if (u == "M" || u == "MIB") m = 1024 ^ 2
    else if (u == "G" || u == "GIB") m = 1024 ^ 3
    else if (u == "KB") m = 1000
    else if (u == "MB") m = 1000 ^ 2
    else if (u == "GB") m = 1000 ^ 3
    else exit
    printf "%.0f\n", n * m
  }'
}

mode=deps max_part=0
while (($#)); do
  case "$1" in
    --model) mode=model ;;
    --max-part-size)
      (($# >= 2)) || { echo "gpu_bundle.sh: --max-part-size needs a size, e.g. 60MiB" >&2; exit 2; }
      max_part=$(bytes "$2")
      if [[ -z "$max_part" ]] || ((max_part < 1048576)); then
        echo "gpu_bundle.sh: --max-part-size '$2': want a size of at least 1 MiB, e.g. 60MiB" >&2
        exit 2
      fi
      shift ;;
    -h | --help) usage 0 ;;
    *) echo "gpu_bundle.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
  esac
  shift
done

# ---------------------------------------------------------------- the model
if [[ "$mode" == model ]]; then
  bash "$root/scripts/fetch_model.sh"
  src="$root/models/$model_name"
  sha="$(cat "$root/scripts/default_model.sha256")"
  echo "$sha  $src" | sha256sum -c --status || { echo "gpu_bundle.sh: $src does not match scripts/default_model.sha256" >&2; exit 1; }
  size=$(stat -L -c %s "$src")
  rm -rf "$model_dir"
  mkdir -p "$model_dir"
  if ((max_part == 0 || size <= max_part)); then
    cp -L "$src" "$model_dir/$model_name"
    echo "gpu_bundle.sh: .gpu-model/$model_name: $(mib "$size"), one file"
  else
    # N parts of nearly equal size, none over the limit
    n=$(((size + max_part - 1) / max_part))
    part=$(((size + n - 1) / n))
    digits=${#n}
    ((digits >= 2)) || digits=2
    split -b "$part" -d -a "$digits" "$src" "$model_dir/$model_name.tmp"
    for f in "$model_dir/$model_name".tmp*; do
      k=$((10#${f##*.tmp} + 1))
      mv "$f" "$model_dir/$model_name.part$k-of-$n"
    done
    echo "gpu_bundle.sh: .gpu-model/: $model_name ($(mib "$size")) in $n parts of at most $(mib "$part"):"
    for ((k = 1; k <= n; k++)); do echo "  .gpu-model/$model_name.part$k-of-$n"; done
    echo "parts carried one at a time: with each in the GPU machine's .gpu-model/, run"
    echo "  bash scripts/gpu_check.sh --stash-model   # keeps it in ~/.cache/goldpath/; the check joins them all"
  fi
  echo "next: carry .gpu-model/ into the GPU machine's checkout; there: bash scripts/gpu_check.sh"
  exit 0
fi

# --------------------------------------------------------------- deps bundle
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "gpu_bundle.sh: needs apt-get and dpkg-deb (Debian/Ubuntu)" >&2
  exit 1
fi
arch="$(dpkg --print-architecture)"
[[ "$arch" == amd64 ]] || { echo "gpu_bundle.sh: the bundle is for x86-64 (x86_64-linux-gnu) GPU machines; this machine is $arch" >&2; exit 1; }
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
  # shellcheck disable=SC1091
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "commit: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "dirty: $([[ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]] && echo yes || echo no)"
  [[ -n "$cudnn_inc" ]] && echo "cudnn headers: $cudnn_inc ($(awk '/define CUDNN_(MAJOR|MINOR|PATCHLEVEL) /{printf "%s%s", s, $3; s="."}' "$cudnn_inc/cudnn_version.h"))"
  echo "cudnn frontend headers: $(cut -d' ' -f1 "$fe/SOURCE")"
  true
} >"$deps/SOURCE"

# what travels: one gzip tarball (a third of the unpacked size)
tar -C "$deps" -czf "$tarball.tmp" . && mv -f "$tarball.tmp" "$tarball"
bundle=$(stat -c %s "$tarball")
echo "gpu_bundle.sh: $deps: $(wc -l <"$deps/PACKAGES") packages, $(mib "$(dir_bytes "$deps")") unpacked"
echo "gpu_bundle.sh: $tarball: $(mib "$bundle")"
if ((max_part && bundle > max_part)); then
  echo "gpu_bundle.sh: note: .gpu-deps.tar.gz is over --max-part-size; split it (split -b SIZE) and join the parts" \
    "with cat into .gpu-deps.tar.gz on the GPU machine" >&2
fi
echo "next: carry .gpu-deps.tar.gz into the GPU machine's checkout; there: bash scripts/gpu_check.sh" \
  "(bash scripts/gpu_bundle.sh --model for the default model)"
