#!/usr/bin/env bash
# gpu_check.sh: the one prepared GPU check, for a bare GPU machine (CUDA
# toolkit, CMake, ninja, python3; no apt, no network). Builds against the
# bundle made by scripts/gpu_bundle.sh, then runs, each step under its own time
# limit and all inside one overall budget, never stopping at a failure:
#   env        nvidia-smi -q header, nvcc, cmake, compiler, which libraries the build uses
#   configure  cmake -G Ninja, GOLDPATH_CUDA_ARCHS="90-real;75-virtual" (sm_90 code + compute_75 PTX)
#   build      every target, all cores
#   ctest      the whole suite, JUnit XML
#   verify     goldpath verify --backend all
#   run        goldpath run --backend all on the default model (when it is there)
#   memcheck, racecheck   compute-sanitizer over the kernels test binary
#   bench      goldpath bench (when this build has it) and every bench/ binary
# Results: one folder packed as a .tar.gz, plus summary.md (GPU, driver, CUDA,
# commit, each step, each test, the side-by-side table), written to $OUT when
# set, else to reports/gpu/<UTC date>-<gpu>-<commit>/.
#
#   bash scripts/gpu_check.sh                 # the check (about 8 minutes at most)
#   bash scripts/gpu_check.sh --stash-model   # only keep the carried model parts (see gpu_bundle.sh --model)
#   bash scripts/gpu_check.sh --dry-run       # no GPU needed: configure + build for sm_75, list the tests
# Options: --archs LIST, --jobs N, --budget SECONDS (default 450, x GOLDPATH_GPU_LIMIT_SCALE), --out DIR,
#   --targets "T1 T2" (build only these; dry runs), --work DIR (build and results
#   folder, default build-gpu/). Environment:
#   GOLDPATH_CACHE      where model parts and the joined model are kept (default ~/.cache/goldpath)
#   GOLDPATH_COMMIT     the commit to report when the tree travelled without .git
#   GOLDPATH_GPU_ALL_BUNDLE_LIBS=1   load every bundled library, even those the system has
#   GOLDPATH_GPU_LIMIT_SCALE    multiplies each step's limit (default 1; 10 for --dry-run)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model_name="SmolLM2-135M-Instruct.Q4_1.gguf"
cache="${GOLDPATH_CACHE:-${HOME:-/root}/.cache/goldpath}"
multiarch="x86_64-linux-gnu"

mode=check archs="" jobs="$(nproc)" budget="" out_dir="" targets="" work="$root/build-gpu"
usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --dry-run) mode=dry ;;
    --stash-model) mode=stash ;;
    --archs) archs="$2"; shift ;;
    --jobs) jobs="$2"; shift ;;
    --budget) budget="$2"; shift ;;
    --out) out_dir="$2"; shift ;;
    --targets) targets="$2"; shift ;;
    --work) work="$2"; shift ;;
    -h | --help) usage 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
  esac
  shift
done
[[ -n "$archs" ]] || { [[ "$mode" == dry ]] && archs="75" || archs="90-real;75-virtual"; }
start=$(date +%s)
# step limits are sized for the H200's 16 cores; a dry run on a laptop gets 10x,
# and so does its overall budget unless --budget is given
limit_scale="${GOLDPATH_GPU_LIMIT_SCALE:-$([[ "$mode" == dry ]] && echo 10 || echo 1)}"
[[ -n "$budget" ]] || budget=$((450 * limit_scale))
deadline=$((start + budget))
reserve=20  # seconds kept for the summary and the packing

# ------------------------------------------------------------ model parts
# parts NAME.partK-of-N carried from .gpu-model/ are kept in $cache/parts;
# when all N are there they are joined, checked and kept as $cache/NAME
model_sha="$(cat "$root/scripts/default_model.sha256")"
model_state=""
stash_model() {
  local f n=0 have=0 k tmp
  mkdir -p "$cache/parts" || { model_state="cannot create $cache"; return 1; }
  if [[ -f "$cache/$model_name" ]] && echo "$model_sha  $cache/$model_name" | sha256sum -c --status; then
    model_state="joined earlier: $cache/$model_name"
    return 0
  fi
  for f in "$root/.gpu-model/$model_name".part*-of-*; do
    [[ -f "$f" ]] && cp -f "$f" "$cache/parts/"
  done
  for f in "$cache/parts/$model_name".part*-of-*; do
    [[ -f "$f" ]] || continue
    n=${f##*-of-}
    have=$((have + 1))
  done
  if ((n == 0)); then model_state="no parts carried (bash scripts/gpu_bundle.sh --model)"; return 1; fi
  if ((have < n)); then model_state="$have of $n parts in $cache/parts"; return 1; fi
  tmp="$cache/$model_name.tmp"
  : >"$tmp"
  for ((k = 1; k <= n; k++)); do cat "$cache/parts/$model_name.part$k-of-$n" >>"$tmp"; done
  if ! echo "$model_sha  $tmp" | sha256sum -c --status; then
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

# --------------------------------------------------------------- the bundle
deps="$root/.gpu-deps"
build="$work/build"
mkdir -p "$work"
bundle_note=""
if [[ ! -d "$deps/root" && -f "$root/.gpu-deps.tar.gz" ]]; then
  mkdir -p "$deps" && tar -C "$deps" -xzf "$root/.gpu-deps.tar.gz"
fi
cmake_args=(-DCMAKE_BUILD_TYPE=Release "-DGOLDPATH_CUDA_ARCHS=$archs")
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
    name=$(basename "$l")
    if [[ "${GOLDPATH_GPU_ALL_BUNDLE_LIBS:-0}" != 1 ]]; then
      found=0
      for d in /lib/"$multiarch" /usr/lib/"$multiarch" /lib64 /usr/lib64 /usr/lib /usr/local/lib; do
        [[ -e "$d/$name" ]] && { found=1; break; }
      done
      ((found)) && continue
    fi
    ln -sf "$l" "$work/lib/$name"
  done
  export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # OpenSSL's configuration.h lives in the multiarch include folder
  export CPATH="$B/usr/include/$multiarch${CPATH:+:$CPATH}"
  cmake_args+=("-DCMAKE_PREFIX_PATH=$B/usr" "-DHDF5_ROOT=$B/usr/lib/$multiarch/hdf5/serial"
               "-DOPENSSL_ROOT_DIR=$B/usr")
  command -v pkg-config >/dev/null || cmake_args+=("-DPKG_CONFIG_EXECUTABLE=$B/usr/bin/pkgconf")
else
  bundle_note="none: the build uses this machine's packages (bash scripts/gpu_bundle.sh, then carry .gpu-deps.tar.gz)"
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
  [[ -n "$pyd" ]] && lib=$(ls "$pyd"/lib/libcudnn.so* 2>/dev/null | head -1)
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
# tree's (scripts/fetch_cudnn_frontend.sh); this machine has no pip to fetch them
fe_inc=""
for d in "$deps/cudnn_frontend/include" "$root/third_party/cudnn_frontend/include"; do
  [[ -f "$d/cudnn_frontend.h" ]] && { fe_inc="$d"; break; }
done
if [[ -n "$fe_inc" ]]; then
  cmake_args+=("-DCUDNN_FRONTEND_INCLUDE_DIR=$fe_inc")
  cudnn_note="$cudnn_note; frontend headers $fe_inc"
else
  cudnn_note="$cudnn_note; frontend headers absent (no cuDNN fused attention: bash scripts/gpu_bundle.sh)"
fi
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

# ------------------------------------------------------------- the results
gpu_name=""
have_gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  have_gpu=1
  gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
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
R="$work/results/$name"
rm -rf "$R" && mkdir -p "$R/logs"
export GOLDPATH_RUNS_DIR="$R/runs"
: >"$R/steps.tsv"

step_no=0
# record NAME STATUS NOTE: a step that did not run a command
record() { printf '%s\t%s\t\t0\t%s\n' "$1" "$2" "${3:-}" >>"$R/steps.tsv"; echo "== $1: $2${3:+ ($3)}"; }
# step NAME LIMIT COMMAND...: runs under min(LIMIT, time left), logs, records
step() {
  local name="$1" limit="$2" left t0 rc status log
  shift 2
  step_no=$((step_no + 1))
  left=$((deadline - reserve - $(date +%s)))
  if ((left < 5)); then record "$name" skipped "the ${budget} s budget is spent"; return 0; fi
  limit=$((limit * limit_scale))
  ((limit > left)) && limit=$left
  log="$R/logs/$(printf %02d "$step_no")-$name.log"
  echo "== $name (limit $limit s)"
  printf '$ %s\n' "$*" >"$log"
  t0=$(date +%s)
  timeout -k 10 "$limit" "$@" >>"$log" 2>&1 </dev/null
  rc=$?
  case $rc in
    0) status=pass ;;
    124 | 137) status=timeout ;;
    *) status=fail ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$(($(date +%s) - t0))" "limit ${limit} s" >>"$R/steps.tsv"
  echo "== $name: $status (exit $rc, $(($(date +%s) - t0)) s)"
  return 0
}

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
  echo "host: $(uname -srm), $(nproc) cores, $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "commit: $commit $commit_note"
  echo "archs: $archs"
  echo "bundle: $bundle_note"
  echo "cudnn: $cudnn_note"
  echo "mode: $mode"
} >"$R/env.txt"
cat "$R/env.txt"
{
  if ((have_gpu)); then nvidia-smi -q | head -n 40; nvidia-smi; else echo "no device"; fi
  echo "--- bundled libraries used at run time (the system lacks them)"
  ls "$work/lib" 2>/dev/null
} >"$R/logs/00-env.log" 2>&1
record env pass

if [[ "$mode" == check ]]; then
  if [[ -f "$root/models/$model_name" ]] && echo "$model_sha  $root/models/$model_name" | sha256sum -c --status; then
    model_state="models/$model_name"
  elif stash_model; then
    mkdir -p "$root/models" && ln -sfn "$cache/$model_name" "$root/models/$model_name"
  fi
  echo "model: $model_state" >>"$R/env.txt"
fi

cmake_cmd=(cmake -S "$root" -B "$build" "${gen[@]}" "${cmake_args[@]}")
step configure 120 "${cmake_cmd[@]}"
[[ -f "$build/CMakeCache.txt" ]] && cp "$build/CMakeCache.txt" "$R/CMakeCache.txt"
build_cmd=(cmake --build "$build" -j "$jobs")
for t in $targets; do build_cmd+=(--target "$t"); done
step build 300 "${build_cmd[@]}"
goldpath="$build/harness/goldpath"
[[ -x "$goldpath" ]] && ldd "$goldpath" >"$R/logs/ldd-goldpath.txt" 2>&1

if [[ "$mode" == dry ]]; then
  step ctest-list 60 ctest --test-dir "$build" -N
  for s in verify run memcheck racecheck bench; do record "$s" "no device" "dry run"; done
else
  step ctest 180 ctest --test-dir "$build" -j "$jobs" --timeout 120 --output-on-failure \
    --output-junit "$R/ctest-junit.xml"
  step verify 90 "$goldpath" verify --backend all
  if [[ -f "$root/models/$model_name" ]]; then
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
      log=$(ls "$R"/logs/*-"$tool".log)
      if grep -qiE 'device not supported|unable to (find|load|initialize)|failed to initialize' "$log"; then
        sed -i "\$s/\t[a-z]*\t\([0-9]*\)\t/\trefused\t\1\t/" "$R/steps.tsv"
        echo "== $tool: compute-sanitizer refused the device (see the log)"
      fi
    fi
  done
  if [[ -x "$goldpath" ]] && "$goldpath" bench --help >/dev/null 2>&1; then
    # the figures the benchmark issue asks for: the default model on every
    # backend; the book's model (synthetic phi-3-mini, real shapes) in f16 and
    # q4_0 on the CUDA backends; the T4 profile (compute_75 PTX, 16 GB budget)
    if [[ -f "$root/models/$model_name" ]]; then
      step bench 90 "$goldpath" bench --model default --backend all --repetitions 3
    else
      record bench skipped "default model absent: $model_state"
    fi
    for spec in synthetic:phi-3-mini synthetic:phi-3-mini:q4_0; do
      for be in cuda cublas; do
        step "bench-${spec#synthetic:}-$be" 45 "$goldpath" bench --model "$spec" --backend "$be" \
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
          "host", "commit", "archs", "bundle", "cudnn", "model", "mode"]:
    if k in env:
        out.append(f"- {k}: {env[k]}")
out += ["", "## Steps", "", "| step | status | exit | seconds | note |", "|---|---|---|---|---|"]
for s in steps:
    s += [""] * (5 - len(s))
    out.append(f"| {s[0]} | {s[1]} | {s[2]} | {s[3]} | {s[4]} |")
# tests: from the JUnit XML when ctest ran, else the list from ctest -N
junit = os.path.join(R, "ctest-junit.xml")
out += ["", "## Tests", ""]
if os.path.exists(junit):
    rows, counts = [], {}
    for tc in ET.parse(junit).getroot().iter("testcase"):
        st = tc.get("status", "run")
        if tc.find("failure") is not None or st == "fail": st = "fail"
        elif tc.find("skipped") is not None or st in ("notrun", "disabled"): st = "skipped"
        else: st = "pass"
        counts[st] = counts.get(st, 0) + 1
        rows.append((tc.get("name"), st, tc.get("time", "")))
    out.append(", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + f" of {len(rows)} tests")
    bad = [r for r in rows if r[1] != "pass"]
    if bad:
        out += ["", "| test | status | seconds |", "|---|---|---|"] + [f"| {n} | {s} | {t} |" for n, s, t in bad]
    out += ["", "<details><summary>every test</summary>", "", "| test | status | seconds |", "|---|---|---|"]
    out += [f"| {n} | {s} | {t} |" for n, s, t in rows] + ["", "</details>"]
else:
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
out += ["", "Logs, the CMake cache, the JUnit XML, run records and benchmark JSON are in the .tar.gz beside this file."]
open(os.path.join(R, "summary.md"), "w").write("\n".join(out) + "\n")
PY

# ------------------------------------------------------------------- pack
if [[ -n "$out_dir" ]]; then dest="$out_dir"
elif [[ -n "${OUT:-}" ]]; then dest="$OUT"
elif [[ "$mode" == dry ]]; then dest="$work/dry-run/$name"
else dest="$root/reports/gpu/$name"; fi
mkdir -p "$dest"
tar -C "$work/results" -czf "$dest/$name.tar.gz" "$name"
cp "$R/summary.md" "$dest/summary.md"
echo "gpu_check.sh: $(($(date +%s) - start)) s; results: $dest/summary.md and $dest/$name.tar.gz"
awk -F'\t' '$2 != "pass" && $2 != "no device" && $2 != "not available" {bad = 1} END {exit bad}' "$R/steps.tsv"
