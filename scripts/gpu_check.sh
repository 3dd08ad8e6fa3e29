#!/usr/bin/env bash
# gpu_check.sh: the whole GPU check in one command, on a machine with an NVIDIA
# GPU and driver, the CUDA toolkit (nvcc, compute-sanitizer), CMake >= 3.24, a
# C++17 compiler and python3 (ninja is used when it is there). It builds
# against this machine's packages, the ones scripts/setup.sh names (missing
# ones are installed with apt-get where this user may), or, when present,
# against the bundle scripts/gpu_bundle.sh makes for an offline machine
# (.gpu-deps.tar.gz or .gpu-deps/). Each step runs under its own time limit,
# and a failing step never stops the rest:
#   deps       the packages scripts/setup.sh names, installed when missing (or the bundle)
#   cudnn-frontend   scripts/fetch_cudnn_frontend.sh, only when neither the bundle nor third_party/ has them
#   model      the default model: models/, else carried in .gpu-model/, else scripts/fetch_model.sh
#   env        nvidia-smi -q header, nvcc, cmake, compiler, which libraries the build uses
#   configure  cmake (-G Ninja when there), GOLDPATH_CUDA_ARCHS = this GPU's code + compute_75 PTX
#   build      every target, all cores
#   ctest      the whole suite, JUnit XML
#   verify     goldpath verify --backend all
#   run        goldpath run --backend all on the default model (when it is there)
#   memcheck, racecheck   compute-sanitizer over the kernels test binary
#   bench      goldpath bench (when this build has it) and every bench/ binary
# Results, as plain files: summary.md (GPU, driver, CUDA, commit, each step,
# each test, the side-by-side table), env.txt, steps.tsv, logs/,
# ctest-junit.xml, CMakeCache.txt, runs/ (run and bench records) and bench/
# (Google Benchmark JSON), in --out DIR, else in $OUT when set, else in
# reports/gpu/<UTC date>-<gpu>-<commit>/.
#
#   bash scripts/gpu_check.sh                 # the check
#   bash scripts/gpu_check.sh --dry-run       # no GPU needed: configure + build for sm_75, list the tests
#   bash scripts/gpu_check.sh --stash-model   # only keep the model parts in .gpu-model/ (see gpu_bundle.sh --model)
# Options: --archs LIST (default: this GPU's, e.g. "89-real;75-virtual"), --jobs N,
#   --budget SECONDS (one overall limit on top of the step limits; default none),
#   --out DIR, --tar (also pack the results as DIR/NAME.tar.gz), --no-install (never
#   apt-get), --offline (no apt-get, no downloads), --targets "T1 T2" (build only
#   these; dry runs), --work DIR (build folder, default build-gpu/). Environment:
#   GOLDPATH_CACHE      where model parts and the joined model are kept (default ~/.cache/goldpath)
#   GOLDPATH_COMMIT     the commit to report when the tree has no .git
#   GOLDPATH_GPU_ALL_BUNDLE_LIBS=1   load every bundled library, even those the system has
#   GOLDPATH_GPU_LIMIT_SCALE    multiplies each step's limit (default 1); the build and
#                               ctest limits also grow with 16 / --jobs
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model_name="SmolLM2-135M-Instruct.Q4_1.gguf"
cache="${GOLDPATH_CACHE:-${HOME:-/root}/.cache/goldpath}"
multiarch="x86_64-linux-gnu"

mode=check archs="" jobs="$(nproc)" budget="" out_dir="" targets="" work="$root/build-gpu"
install=1 offline=0 pack=0
usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
need_arg() { (($# >= 2)) || { echo "gpu_check.sh: $1 needs a value" >&2; usage 2 >&2; }; }
while (($#)); do
  case "$1" in
    --dry-run) mode=dry ;;
    --stash-model) mode=stash ;;
    --archs) need_arg "$@"; archs="$2"; shift ;;
    --jobs) need_arg "$@"; jobs="$2"; shift ;;
    --budget) need_arg "$@"; budget="$2"; shift ;;
    --out) need_arg "$@"; out_dir="$2"; shift ;;
    --targets) need_arg "$@"; targets="$2"; shift ;;
    --work) need_arg "$@"; work="$2"; shift ;;
    --tar) pack=1 ;;
    --no-install) install=0 ;;
    --offline) offline=1 install=0 ;;
    -h | --help) usage 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
  esac
  shift
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "gpu_check.sh: --jobs wants a positive whole number, not '$jobs'" >&2; exit 2; }
[[ -z "$budget" || "$budget" =~ ^[1-9][0-9]*$ ]] ||
  { echo "gpu_check.sh: --budget wants seconds (a positive whole number), not '$budget'" >&2; exit 2; }
start=$(date +%s)
# step limits are sized for 16 cores; the build and ctest ones grow on fewer
limit_scale="${GOLDPATH_GPU_LIMIT_SCALE:-1}"
[[ "$limit_scale" =~ ^[1-9][0-9]*$ ]] || { echo "gpu_check.sh: GOLDPATH_GPU_LIMIT_SCALE wants a positive whole number" >&2; exit 2; }
core_scale=$(((16 + jobs - 1) / jobs))
deadline=0  # no overall limit unless --budget
[[ -n "$budget" ]] && deadline=$((start + budget))
reserve=20  # seconds of a --budget kept for the summary
interrupted=0
trap 'interrupted=1' INT TERM

# ------------------------------------------------------------ model parts
# the model carried whole as .gpu-model/NAME, or in parts NAME.partK-of-N
# (gpu_bundle.sh --model --max-part-size) that are kept in $cache/parts until
# all N are there; then joined, checked and kept as $cache/NAME
model_sha="$(cat "$root/scripts/default_model.sha256")"
model_state=""
sha_ok() { echo "$model_sha  $1" | sha256sum -c --status 2>/dev/null; }
stash_model() {
  local f n=0 have=0 k tmp ns
  mkdir -p "$cache/parts" || { model_state="cannot create $cache"; return 1; }
  if [[ -f "$cache/$model_name" ]] && sha_ok "$cache/$model_name"; then
    model_state="kept earlier: $cache/$model_name"
    return 0
  fi
  tmp="$cache/$model_name.tmp"
  if [[ -f "$root/.gpu-model/$model_name" ]] && sha_ok "$root/.gpu-model/$model_name"; then
    cp -f "$root/.gpu-model/$model_name" "$tmp" && mv -f "$tmp" "$cache/$model_name" &&
      { model_state="carried whole in .gpu-model/, kept as $cache/$model_name"; return 0; }
  fi
  for f in "$root/.gpu-model/$model_name".part*-of-*; do
    [[ -f "$f" ]] && cp -f "$f" "$cache/parts/"
  done
  # the first split (by its N) with every part there
  ns=$(for f in "$cache/parts/$model_name".part*-of-*; do [[ -f "$f" ]] && echo "${f##*-of-}"; done | sort -un)
  if [[ -z "$ns" ]]; then model_state="not in models/, .gpu-model/ or $cache"; return 1; fi
  for n in $ns; do
    have=0
    for ((k = 1; k <= n; k++)); do [[ -f "$cache/parts/$model_name.part$k-of-$n" ]] && have=$((have + 1)); done
    ((have == n)) && break
  done
  if ((have < n)); then model_state="$have of $n parts in $cache/parts"; return 1; fi
  : >"$tmp"
  for ((k = 1; k <= n; k++)); do cat "$cache/parts/$model_name.part$k-of-$n" >>"$tmp"; done
  if ! sha_ok "$tmp"; then
    rm -f "$tmp"
    model_state="the $n parts do not join to scripts/default_model.sha256 (parts from different splits?)"
    return 1
  fi
  mv -f "$tmp" "$cache/$model_name" && rm -f "$cache/parts/$model_name".part*
  model_state="joined $n parts: $cache/$model_name"
}

if [[ "$mode" == stash ]]; then
  stash_model
  echo "gpu_check.sh: model: $model_state"
  exit 0
fi

# ------------------------------------------------------- GPU, commit, results
gpu_name="" cc=""
have_gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  have_gpu=1
  gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
fi
# the architectures: this GPU's code, plus compute_75 PTX (goldpath bench --profile t4)
if [[ -z "$archs" ]]; then
  if [[ "$mode" == dry ]]; then archs=75
  elif [[ "$cc" =~ ^[0-9]+$ ]]; then
    if ((cc > 75)); then archs="$cc-real;75-virtual"; else archs="$cc"; fi
  fi  # else the project's default list (CMakeLists.txt)
fi

deps="$root/.gpu-deps"
if [[ ! -d "$deps/root" && -f "$root/.gpu-deps.tar.gz" ]]; then
  mkdir -p "$deps" && tar -C "$deps" -xzf "$root/.gpu-deps.tar.gz"
fi
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || true)
commit_note=""
if [[ -n "${GOLDPATH_COMMIT:-}" ]]; then commit="$GOLDPATH_COMMIT" commit_note="(from GOLDPATH_COMMIT)"
elif [[ -z "$commit" && -f "$deps/SOURCE" ]]; then
  commit=$(sed -n 's/^commit: //p' "$deps/SOURCE" | cut -c1-12) commit_note="(no .git here: the commit when the bundle was made)"
elif [[ -n "$commit" && -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit_note="(with uncommitted changes)"
fi
[[ -n "$commit" ]] || commit=unknown
stamp=$(date -u +%Y%m%dT%H%MZ)
slug() { tr -c 'A-Za-z0-9._-' '-' <<<"$1" | sed -E 's/-+/-/g; s/^-//; s/-$//'; }
name="$stamp-$(slug "${gpu_name:-no-gpu}")-$(slug "$commit")"
[[ "$mode" == dry ]] && name="dry-run-$name"
build="$work/build"
R="$work/results/$name"
if ! { rm -rf "$R" && mkdir -p "$R/logs"; }; then echo "gpu_check.sh: cannot create $R" >&2; exit 1; fi
export GOLDPATH_RUNS_DIR="$R/runs"
: >"$R/steps.tsv"

step_no=0
# record NAME STATUS NOTE: a step that did not run a command
record() { printf '%s\t%s\t\t0\t%s\n' "$1" "$2" "${3:-}" >>"$R/steps.tsv"; echo "== $1: $2${3:+ ($3)}"; }
# step NAME LIMIT COMMAND...: runs under LIMIT x GOLDPATH_GPU_LIMIT_SCALE (and
# what is left of a --budget), logs, records
step() {
  local name="$1" limit="$2" left t0 rc status log pid
  shift 2
  step_no=$((step_no + 1))
  if ((interrupted)); then record "$name" skipped "interrupted"; return 0; fi
  limit=$((limit * limit_scale))
  if ((deadline)); then
    left=$((deadline - reserve - $(date +%s)))
    if ((left < 5)); then record "$name" skipped "the ${budget} s budget is spent"; return 0; fi
    ((limit > left)) && limit=$left
  fi
  log="$R/logs/$(printf %02d "$step_no")-$name.log"
  echo "== $name (limit $limit s)"
  printf '$ %s\n' "$*" >"$log"
  t0=$(date +%s)
  # in the background, so that Ctrl-C ends this step at once and the rest are
  # recorded as skipped, with the summary still written
  timeout -k 10 "$limit" "$@" >>"$log" 2>&1 </dev/null &
  pid=$!
  wait "$pid"
  rc=$?
  if ((interrupted)); then
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    rc=130
  fi
  case $rc in
    0) status=pass ;;
    124 | 137) status=timeout ;;
    *) status=fail ;;
  esac
  ((interrupted)) && status=interrupted
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$(($(date +%s) - t0))" "limit ${limit} s" >>"$R/steps.tsv"
  echo "== $name: $status (exit $rc, $(($(date +%s) - t0)) s)"
  return 0
}

# ---------------------------------------------------- build dependencies
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [[ -n "$archs" ]]; then cmake_args+=("-DGOLDPATH_CUDA_ARCHS=$archs")
else cmake_args+=(-UGOLDPATH_CUDA_ARCHS); fi
bundle_note=""
if [[ -d "$deps/root" ]]; then
  B="$deps/root"
  bundle_note="$(wc -l <"$deps/PACKAGES") Debian packages from .gpu-deps ($(sed -n 's/^made: //p' "$deps/SOURCE"))"
  # pkg-config files name /usr: copies that name the bundle
  rm -rf "$work/pkgconfig" && mkdir -p "$work/pkgconfig"
  for pc in "$B"/usr/lib/"$multiarch"/pkgconfig/*.pc "$B"/usr/share/pkgconfig/*.pc; do
    [[ -f "$pc" ]] && sed -E "s#^([A-Za-z_]+=)/usr(/|\$)#\\1$B/usr\\2#" "$pc" >"$work/pkgconfig/$(basename "$pc")"
  done
  export PKG_CONFIG_PATH="$work/pkgconfig"
  # run time: a bundled library is used only where the system lacks its soname
  rm -rf "${work:?}/lib" && mkdir -p "$work/lib"
  for l in "$B"/usr/lib/"$multiarch"/*.so.* "$B"/lib/"$multiarch"/*.so.*; do
    [[ -e "$l" ]] || continue
    lname=$(basename "$l")
    if [[ "${GOLDPATH_GPU_ALL_BUNDLE_LIBS:-0}" != 1 ]]; then
      found=0
      for d in /lib/"$multiarch" /usr/lib/"$multiarch" /lib64 /usr/lib64 /usr/lib /usr/local/lib; do
        [[ -e "$d/$lname" ]] && { found=1; break; }
      done
      ((found)) && continue
    fi
    ln -sf "$l" "$work/lib/$lname"
  done
  export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # OpenSSL's configuration.h lives in the multiarch include folder
  export CPATH="$B/usr/include/$multiarch${CPATH:+:$CPATH}"
  cmake_args+=("-DCMAKE_PREFIX_PATH=$B/usr" "-DHDF5_ROOT=$B/usr/lib/$multiarch/hdf5/serial"
               "-DOPENSSL_ROOT_DIR=$B/usr")
  command -v pkg-config >/dev/null || cmake_args+=("-DPKG_CONFIG_EXECUTABLE=$B/usr/bin/pkgconf")
  record deps pass "bundle: $bundle_note"
else
  bundle_note="none: this machine's packages"
  # the packages scripts/setup.sh installs (its pkgs=( ... ) list)
  mapfile -t pkgs < <(awk '/^pkgs=\(/ {on = 1}
    on {sub(/#.*/, ""); end = index($0, ")"); line = end ? substr($0, 1, end - 1) : $0
        sub(/^pkgs=\(/, "", line); n = split(line, a, " "); for (i = 1; i <= n; i++) print a[i]; if (end) exit}' \
    "$root/scripts/setup.sh")
  missing=()
  if ! command -v dpkg-query >/dev/null; then
    record deps skipped "no dpkg-query (not Debian/Ubuntu): the build needs what scripts/setup.sh names"
  elif ((${#pkgs[@]} == 0)); then
    record deps skipped "no package list found in scripts/setup.sh"
  else
    for p in "${pkgs[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    sudo=()
    if ((${#missing[@]} == 0)); then
      record deps pass "the ${#pkgs[@]} packages scripts/setup.sh names are installed"
    elif ((!install)); then
      record deps missing "${missing[*]} ($([[ $offline == 1 ]] && echo --offline || echo --no-install))"
    elif ! command -v apt-get >/dev/null; then
      record deps missing "${missing[*]} (no apt-get)"
    elif [[ $(id -u) -ne 0 ]] && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
      record deps missing "${missing[*]} (installing needs root or sudo without a password: bash scripts/setup.sh)"
    else
      [[ $(id -u) -ne 0 ]] && sudo=(sudo -n)
      step deps 600 "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive bash -c \
        'apt-get update -q && apt-get install -y -q --no-install-recommends "$@"' apt-get "${missing[@]}"
    fi
  fi
fi

# CUDA and cuDNN: the system's, else the cuDNN of python's nvidia-cudnn package
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="$PATH:/usr/local/cuda/bin"
fi
cudnn_note=""
sys_inc="" sys_lib=""
for f in /usr/local/cuda/include/cudnn.h /usr/include/cudnn.h /usr/include/"$multiarch"/cudnn.h; do
  [[ -f "$f" ]] && { sys_inc="$f"; break; }
done
for f in /usr/local/cuda/lib64/libcudnn.so /usr/lib/"$multiarch"/libcudnn.so; do
  [[ -e "$f" ]] && { sys_lib="$f"; break; }
done
if [[ -n "$sys_inc" && -n "$sys_lib" ]]; then
  cudnn_note="system: $sys_lib, $sys_inc"
else
  pyd=""
  for py in python3 /opt/torch/.venv/bin/python3; do
    pyd=$("$py" -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null) && [[ -d "$pyd/lib" ]] && break
    pyd=""
  done
  lib=""
  [[ -n "$pyd" ]] && lib=$(find "$pyd/lib" -maxdepth 1 -name 'libcudnn.so*' 2>/dev/null | sort | head -1)
  inc=""
  if [[ -n "$pyd" && -f "$pyd/include/cudnn.h" ]]; then inc="$pyd/include"
  elif [[ -f "$deps/cudnn/include/cudnn.h" ]]; then inc="$deps/cudnn/include"; fi
  if [[ -n "$lib" && -n "$inc" ]]; then
    cmake_args+=("-DCUDNN_LIBRARY=$lib" "-DCUDNN_INCLUDE_DIR=$inc")
    export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$pyd/lib"  # the libraries libcudnn loads
    cudnn_note="$lib, headers $inc"
  else
    cmake_args+=(-DCMAKE_DISABLE_FIND_PACKAGE_CUDNN=ON)
    cudnn_note="absent (no cudnn.h + libcudnn in the system or in python's nvidia-cudnn package)"
  fi
fi
# the cuDNN frontend headers (cuDNN's fused attention): the bundle's, else the
# tree's (scripts/fetch_cudnn_frontend.sh, fetched here when missing)
find_frontend() {
  fe_inc=""
  for d in "$deps/cudnn_frontend/include" "$root/third_party/cudnn_frontend/include"; do
    [[ -f "$d/cudnn_frontend.h" ]] && { fe_inc="$d"; return 0; }
  done
  return 1
}
if ! find_frontend; then
  if ((offline)); then record cudnn-frontend skipped "--offline: no headers in .gpu-deps or third_party/"
  else step cudnn-frontend 120 bash "$root/scripts/fetch_cudnn_frontend.sh"; find_frontend; fi
fi
if [[ -n "$fe_inc" ]]; then
  cmake_args+=("-DCUDNN_FRONTEND_INCLUDE_DIR=$fe_inc")
  cudnn_note="$cudnn_note; frontend headers $fe_inc"
else
  cudnn_note="$cudnn_note; frontend headers absent (no cuDNN fused attention)"
fi
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

# ------------------------------------------------------------ the model
have_model() { [[ -f "$root/models/$model_name" ]] && sha_ok "$root/models/$model_name"; }
model_ok=0
if [[ "$mode" == check ]]; then
  if have_model; then
    model_state="models/$model_name"
    record model pass "$model_state"
  elif stash_model; then
    mkdir -p "$root/models" && ln -sfn "$cache/$model_name" "$root/models/$model_name"
    record model pass "$model_state"
  elif ((offline)); then
    record model skipped "--offline; $model_state"
  else
    step model 300 bash "$root/scripts/fetch_model.sh"
    if have_model; then model_state="fetched: models/$model_name (scripts/fetch_model.sh)"
    else model_state="scripts/fetch_model.sh could not fetch it (see logs/); $model_state"; fi
  fi
  have_model && model_ok=1
fi

# ------------------------------------------------------------------- steps
{
  echo "gpu: ${gpu_name:-none}"
  if ((have_gpu)); then
    echo "driver: $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)"
    echo "driver cuda: $(nvidia-smi -q | sed -n 's/^CUDA Version *: *//p' | head -1)"
    echo "compute capability: $(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1)"
    echo "memory: $(nvidia-smi --query-gpu=memory.total --format=csv,noheader | head -1)"
  else
    if command -v nvidia-smi >/dev/null; then echo "driver: none ($(nvidia-smi -L 2>&1 | head -1))"
    else echo "driver: none (no nvidia-smi)"; fi
  fi
  echo "nvcc: $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "cmake: $(cmake --version | head -1 | awk '{print $3}')"
  echo "compiler: $(c++ --version 2>/dev/null | head -1)"
  # shellcheck disable=SC1091
  echo "host: $(uname -srm), $(nproc) cores, $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "commit: $commit $commit_note"
  echo "archs: ${archs:-the project default (GOLDPATH_CUDA_ARCHS in CMakeLists.txt)}"
  echo "bundle: $bundle_note"
  echo "cudnn: $cudnn_note"
  [[ "$mode" == check ]] && echo "model: $model_state"
  echo "limits: each step's own (x$limit_scale; build and ctest x$core_scale for --jobs $jobs); $([[ -n "$budget" ]] && echo "budget $budget s" || echo "no overall budget")"
  echo "mode: $mode"
} >"$R/env.txt"
cat "$R/env.txt"
{
  if ((have_gpu)); then nvidia-smi -q | head -n 40; nvidia-smi; else echo "no device"; fi
  echo "--- bundled libraries used at run time (the system lacks them)"
  ls "$work/lib" 2>/dev/null
} >"$R/logs/00-env.log" 2>&1
record env pass

cmake_cmd=(cmake -S "$root" -B "$build" "${gen[@]}" "${cmake_args[@]}")
step configure 120 "${cmake_cmd[@]}"
[[ -f "$build/CMakeCache.txt" ]] && cp "$build/CMakeCache.txt" "$R/CMakeCache.txt"
build_cmd=(cmake --build "$build" -j "$jobs")
for t in $targets; do build_cmd+=(--target "$t"); done
step build $((300 * core_scale)) "${build_cmd[@]}"
goldpath="$build/harness/goldpath"
[[ -x "$goldpath" ]] && ldd "$goldpath" >"$R/logs/ldd-goldpath.txt" 2>&1

if [[ "$mode" == dry ]]; then
  step ctest-list 60 ctest --test-dir "$build" -N
  for s in verify run memcheck racecheck bench; do record "$s" "no device" "dry run"; done
else
  step ctest $((180 * core_scale)) ctest --test-dir "$build" -j "$jobs" --timeout 120 --output-on-failure \
    --output-junit "$R/ctest-junit.xml"
  step verify 90 "$goldpath" verify --backend all
  if ((model_ok)); then
    step run 120 "$goldpath" run --backend all
  else
    record run skipped "default model absent: $model_state"
  fi
  kt="$build/tests/kernels_tests"
  san=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
  for tool in memcheck racecheck; do
    if ((!have_gpu)); then record "$tool" "no device"
    elif [[ -z "$san" ]]; then record "$tool" skipped "compute-sanitizer not found"
    elif [[ ! -x "$kt" ]]; then record "$tool" skipped "no kernels test binary"
    else
      # the odd/tail shapes and every kernel-specific test; the real-model shapes
      # are left out: their CPU reference dominates and sanitizers slow it 10-100x
      step "$tool" 90 "$san" --tool "$tool" --error-exitcode 99 --print-limit 20 "$kt" --gtest_brief=1 \
        --gtest_filter='-*llama_2_7b*:*phi_3_mini*:*smollm2_135m*:CudaLinearReal*:*Golden*'
      log=$(ls "$R"/logs/*-"$tool".log 2>/dev/null)
      if [[ -n "$log" ]] && grep -qiE 'device not supported|unable to (find|load|initialize)|failed to initialize' "$log"; then
        sed -i "\$s/\t[a-z]*\t\([0-9]*\)\t/\trefused\t\1\t/" "$R/steps.tsv"
        echo "== $tool: compute-sanitizer refused the device (see the log)"
      fi
    fi
  done
  if [[ -x "$goldpath" ]] && "$goldpath" bench --help >/dev/null 2>&1; then
    # the default model on every backend; the book's model (synthetic
    # phi-3-mini, real shapes) in f16 and q4_0 on the CUDA backends; the T4
    # profile (compute_75 PTX, 16 GB budget)
    if ((model_ok)); then
      step bench 90 "$goldpath" bench --model default --backend all --repetitions 3
    else
      record bench skipped "default model absent: $model_state"
    fi
    for spec in synthetic:phi-3-mini synthetic:phi-3-mini:q4_0; do
      for be in cuda cublas; do
        sn=${spec#synthetic:}
        step "bench-${sn//:/-}-$be" 45 "$goldpath" bench --model "$spec" --backend "$be" \
          --prompt-lengths 128,512 --depths 0,512,2048 --gen-tokens 64 --repetitions 3
      done
    done
    step bench-t4-profile 45 "$goldpath" bench --model synthetic:phi-3-mini:q4_0 --backend cuda \
      --profile t4 --prompt-lengths 512 --depths 0,2048 --gen-tokens 64 --repetitions 3
  else
    record bench "not available" "goldpath bench: not available in this build"
  fi
  mkdir -p "$R/bench"
  for b in "$build"/bench/*_bench; do
    [[ -x "$b" && -f "$b" ]] || continue
    bn=$(basename "$b")
    # per op: the phi-3-mini shapes (the book's model) and the odd tails, every version
    filter='.'
    [[ "$bn" == ops_bench ]] && filter='phi-3|odd'
    step "$bn" 60 "$b" --benchmark_min_time=0.05 --benchmark_filter="$filter" \
      --benchmark_out="$R/bench/$bn.json" --benchmark_out_format=json
  done
fi
trap - INT TERM

# ----------------------------------------------------------------- summary
python3 - "$R" "$name" <<'PY'
import os, re, sys, xml.etree.ElementTree as ET
R, name = sys.argv[1], sys.argv[2]
env = dict(l.rstrip("\n").split(": ", 1) for l in open(os.path.join(R, "env.txt")) if ": " in l)
steps = [l.rstrip("\n").split("\t") for l in open(os.path.join(R, "steps.tsv")) if l.strip()]
logs = sorted(os.listdir(os.path.join(R, "logs")))
def log_of(step):
    for f in logs:
        if re.fullmatch(r"\d\d-" + re.escape(step) + r"\.log", f):
            return os.path.join(R, "logs", f)
out = [f"# GPU check {name}", ""]
for k in ["gpu", "driver", "driver cuda", "compute capability", "memory", "nvcc", "cmake", "compiler",
          "host", "commit", "archs", "bundle", "cudnn", "model", "limits", "mode"]:
    if k in env:
        out.append(f"- {k}: {env[k]}")
out += ["", "## Steps", "", "| step | status | exit | seconds | note |", "|---|---|---|---|---|"]
for s in steps:
    s += [""] * (5 - len(s))
    out.append(f"| {s[0]} | {s[1]} | {s[2]} | {s[3]} | {s[4]} |")
# tests: from the JUnit XML when ctest ran, else the list from ctest -N
junit = os.path.join(R, "ctest-junit.xml")
out += ["", "## Tests", ""]
rows = []
if os.path.exists(junit):
    try:
        rows = list(ET.parse(junit).getroot().iter("testcase"))
    except ET.ParseError as e:
        out.append(f"ctest-junit.xml does not parse: {e}")
if rows:
    table, counts = [], {}
    for tc in rows:
        st = tc.get("status", "run")
        if tc.find("failure") is not None or st == "fail": st = "fail"
        elif tc.find("skipped") is not None or st in ("notrun", "disabled"): st = "skipped"
        else: st = "pass"
        counts[st] = counts.get(st, 0) + 1
        table.append((tc.get("name"), st, tc.get("time", "")))
    out.append(", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + f" of {len(table)} tests")
    bad = [r for r in table if r[1] != "pass"]
    if bad:
        out += ["", "| test | status | seconds |", "|---|---|---|"] + [f"| {n} | {s} | {t} |" for n, s, t in bad]
    out += ["", "<details><summary>every test</summary>", "", "| test | status | seconds |", "|---|---|---|"]
    out += [f"| {n} | {s} | {t} |" for n, s, t in table] + ["", "</details>"]
elif not os.path.exists(junit):
    f = log_of("ctest-list")
    listed = re.findall(r"Test +#\d+: (\S+)", open(f).read()) if f else []
    out.append(f"ctest did not run; {len(listed)} tests listed (ctest -N):" if listed else "ctest did not run.")
    if listed:
        out += ["", "<details><summary>listed tests</summary>", ""] + [f"- {t}" for t in listed] + ["", "</details>"]
# the side-by-side table of goldpath run: header line through the rows
f = log_of("run")
out += ["", "## goldpath run (default model, every backend)", ""]
table = []
if f:
    lines = open(f, errors="replace").read().splitlines()
    for i, l in enumerate(lines):
        if l.startswith("backend") and "tokens match" in l:
            table = [l]
            for m in lines[i + 1:]:
                if not m.strip() or m.startswith(("run record:", "goldpath:")): break
                table.append(m)
    head = [l for l in lines if l.startswith(("goldpath run:", "transformers:"))]
    after = [l for l in lines if l.startswith(("run record:", "goldpath:"))]
    out += ["```"] + head + table + after + ["```"] if table or head or after else ["(no table: see the log)"]
else:
    out.append("not run: " + next((s[4] for s in steps if s[0] == "run"), "see steps"))
for step_name, title in (("verify", "goldpath verify --backend all"), ("bench", "goldpath bench")):
    f = log_of(step_name)
    if f:
        body = open(f, errors="replace").read().splitlines()
        fails = [l for l in body if "FAIL" in l]
        out += ["", f"## {title}", "", f"{len(body)} lines in logs/{os.path.basename(f)}; {len(fails)} with FAIL", ""]
        if fails: out += ["```"] + fails[:40] + ["```"]
def count(sub, ext):
    d = os.path.join(R, sub)
    return len([x for x in os.listdir(d) if x.endswith(ext)]) if os.path.isdir(d) else 0
out += ["", "## Files beside this one", "",
        f"- runs/: {count('runs', '.json')} run and bench records (reports/FORMAT.md)",
        f"- bench/: {count('bench', '.json')} Google Benchmark JSON files",
        f"- logs/: {len(logs)} files, a log per step",
        "- env.txt, steps.tsv" + (", ctest-junit.xml" if os.path.exists(junit) else "")
        + (", CMakeCache.txt" if os.path.exists(os.path.join(R, "CMakeCache.txt")) else "")]
open(os.path.join(R, "summary.md"), "w").write("\n".join(out) + "\n")
PY

# --------------------------------------------------------------- results
if [[ -n "$out_dir" ]]; then dest="$out_dir"
elif [[ -n "${OUT:-}" ]]; then dest="$OUT"
elif [[ "$mode" == dry ]]; then dest="$work/dry-run/$name"
else dest="$root/reports/gpu/$name"; fi
if ! { mkdir -p "$dest" && cp -R "$R/." "$dest/"; }; then
  echo "gpu_check.sh: could not write $dest; the results are in $R" >&2
  exit 1
fi
((pack)) && tar -C "$work/results" -czf "$dest/$name.tar.gz" "$name"
echo "gpu_check.sh: $(($(date +%s) - start)) s; results in $dest/ (summary.md first)"
((interrupted)) && exit 130
awk -F'\t' '$2 != "pass" && $2 != "no device" && $2 != "not available" {bad = 1} END {exit bad}' "$R/steps.tsv"
