#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input (tests/fuzz/*_fuzz.cpp) with libFuzzer:
# configures build-fuzz with Clang (GOLDPATH_FUZZ: ASan + UBSan everywhere),
# builds only the fuzz targets, then runs each for FUZZ_SECONDS, FUZZ_JOBS at a
# time, over a scratch copy of its seeds and regressions (corpus growth is not
# kept). Prints one line per target (runs, coverage, result) and exits non-zero
# on any crash, leak, out-of-memory or timeout, naming the input that caused it.
#   scripts/fuzz.sh [target ...]   (default: every target but golden_fuzz)
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_JOBS      targets at a time (default 2)
#   FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (default 10)
#   FUZZ_RSS_MB    memory limit per target, and largest single allocation (default 2048)
#   GOLDPATH_FUZZ_BUILD_DIR  build folder (default: build-fuzz)
# A crashing input belongs in tests/fuzz/regressions/<target>/ once fixed.
# The golden reader has two targets: golden_struct_fuzz (in the default set)
# builds valid HDF5 files with hostile content from a recipe, so it fuzzes
# goldpath's own reader and manifest logic; golden_fuzz feeds raw bytes to
# libhdf5 and runs only when named: libhdf5 1.10 (Debian 12) crashes inside
# itself on corrupt files within seconds (tests/fuzz/hdf5_crashes/), and
# goldpath never lets HDF5 parse a golden file whose sha256 is not in
# golden/MANIFEST.sha256, so such a finding is libhdf5's, not goldpath's. Its
# seeds and regressions still replay in ctest (fuzz_regress.golden_fuzz).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${GOLDPATH_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-60}"
parallel="${FUZZ_JOBS:-2}"
timeout="${FUZZ_TIMEOUT:-10}"
rss="${FUZZ_RSS_MB:-2048}"
start=$(date +%s)

# Clang and its libFuzzer/sanitizer runtimes (Debian: clang, libclang-rt-14-dev)
pkgs=(clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}" >&2
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  # -O1 -gline-tables-only, as OSS-Fuzz builds: fast to compile, symbolized reports
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DGOLDPATH_FUZZ=ON -DGOLDPATH_CUDA=OFF >/dev/null
fi
# FUZZ_CONFIGURE_ONLY=1: install clang and configure build-fuzz, nothing more
# (scripts/test.sh's sanitize stage builds the test binaries in it)
[[ "${FUZZ_CONFIGURE_ONLY:-0}" == 1 ]] && exit 0
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$root"/tests/fuzz/*_fuzz.cpp; do
    [[ "$(basename "$f")" == golden_fuzz.cpp ]] || targets+=("$(basename "$f" .cpp)")
  done
fi
for t in "${targets[@]}"; do
  [[ -f "$root/tests/fuzz/$t.cpp" ]] || { echo "fuzz: no target $t (tests/fuzz/$t.cpp)" >&2; exit 2; }
done
cmake --build "$build" -j"$parallel" --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -30 "$build/fuzz-build.log"; echo "fuzz: build failed (log: $build/fuzz-build.log)" >&2; exit 1; }
built=$(date +%s)
runs="$build/fuzz-runs"

# one target: a fresh corpus from the seeds and regressions, artifacts beside it
fuzz_one() {
  local t="$1" dir="$runs/$1"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  for src in "$root/tests/fuzz/seeds/$t" "$root/tests/fuzz/regressions/$t"; do
    [[ -d "$src" ]] && cp -r "$src/." "$dir/corpus/"
  done
  # inputs as long as the longest seed (regressions, some of them huge on purpose, are cut to it)
  local max_len
  max_len=$(find "$root/tests/fuzz/seeds/$t" -type f -printf '%s\n' | sort -n | tail -1)
  ((max_len < 4096)) && max_len=4096
  # the target's scratch files (a crash leaves them behind): in memory when /dev/shm exists
  local scratch="$dir/scratch"
  [[ -d /dev/shm ]] && scratch="/dev/shm/goldpath-fuzz-$t.$$"
  mkdir -p "$scratch"
  local rc=0
  # goldpath's host memory cap (core/memory.h) below the fuzzer's limit: a size
  # that asks the cap must fail there; one that does not is the fuzzer's out-of-memory
  (cd "$dir" && LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp" GOLDPATH_MAX_HOST_MEMORY=$((rss / 2))M \
     GOLDPATH_FUZZ_SCRATCH="$scratch" \
     "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss" -max_len="$max_len" \
     -print_final_stats=1 -artifact_prefix="$dir/artifacts/" corpus >"$dir/log" 2>&1) || rc=$?
  rm -rf "$scratch"
  echo "$rc" >"$dir/rc"
}

# two at a time (FUZZ_JOBS)
for t in "${targets[@]}"; do
  [[ -x "$build/tests/fuzz/$t" ]] || { echo "fuzz: no target $t" >&2; exit 2; }
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  fuzz_one "$t" &
done
wait

failed=0
printf '%-22s %10s %7s %7s  %s\n' target runs cov ft result
for t in "${targets[@]}"; do
  dir="$runs/$t" rc=$(cat "$runs/$t/rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2 || true)
  if [[ "$rc" == 0 ]]; then
    result="ok"
  else
    failed=1
    kind=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer): [a-zA-Z -]+|'\
'runtime error: .*|'\
'fuzz invariant broken: .*|terminate called .*' "$dir/log" || true)
    kind="${kind% on *address*}"
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/log" | tail -1)
    # the first frame of the report outside the sanitizer runtime (its interceptors) and libc
    frame=$(awk '/ERROR: |fuzz invariant broken|terminate called/ {e = 1}
                 e && /#[0-9]+ 0x/ && !/ in (__|fuzzer::|[mc]alloc|realloc|operator new|abort|raise|gpfuzz::)/ &&
                 !/ in (str|mem)[a-z]* \(|libc\.so/ {
                   fn = $4; sub(/\(.*/, "", fn); loc = ""
                   for (i = 5; i <= NF; i++) {
                     if ($i ~ /^\//) { loc = $i; break }
                     if ($i ~ /^\(\//) { loc = $i; gsub(/^\(|\+0x.*$|\)$/, "", loc); sub(/.*\//, "", loc); break }
                   }
                   print fn " " loc; exit }' "$dir/log")
    result="FAILED (${kind:-exit $rc}${frame:+ at $frame}) input: ${artifact:-none} log: $dir/log"
  fi
  printf '%-22s %10s %7s %7s  %s\n' "$t" "${execs:--}" "${cov:--}" "${ft:--}" "$result"
done
end=$(date +%s)
echo "fuzz: build $((built - start)) s, ${#targets[@]} targets x ${seconds} s, $parallel at a time:" \
  "$((end - start)) s in all"
exit "$failed"
