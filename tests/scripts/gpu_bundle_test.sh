#!/usr/bin/env bash
# gpu_bundle_test.sh: the size of what is carried to an offline GPU machine is
# an option of the bundling script: `gpu_bundle.sh --model --max-part-size S`
# writes parts no larger than S that join to the default model (sha256), no
# option writes one file, and a bad size is a one-line error with exit 2.
# Runs on a copy of scripts/ in a temporary folder, with the fetched model.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
[[ -f "$src/models/$name" ]] || { echo "SKIP: no default model (bash scripts/fetch_model.sh)"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts" "$tmp/models"
cp "$src"/scripts/{gpu_bundle.sh,gpu_check.sh,fetch_model.sh,default_model.sha256} "$tmp/scripts/"
ln "$src/models/$name" "$tmp/models/$name" 2>/dev/null || cp "$src/models/$name" "$tmp/models/$name"
want="$(cat "$src/scripts/default_model.sha256")"
fail() { echo "FAIL: $*"; exit 1; }

bash "$tmp/scripts/gpu_bundle.sh" --model --max-part-size 40MiB >"$tmp/out.txt" 2>&1 || { cat "$tmp/out.txt"; fail "bundling in parts"; }
mapfile -t parts < <(ls "$tmp/.gpu-model/" | grep -F "$name.part" | sort -V)
((${#parts[@]} == 3)) || fail "expected 3 parts of at most 40 MiB for a 98 MB model, got ${#parts[@]}: ${parts[*]}"
for p in "${parts[@]}"; do
  size=$(stat -c %s "$tmp/.gpu-model/$p")
  ((size <= 40 * 1024 * 1024)) || fail "$p is $size bytes, over 40 MiB"
done
got="$(cd "$tmp/.gpu-model" && cat "${parts[@]}" | sha256sum | cut -d' ' -f1)"
[[ "$got" == "$want" ]] || fail "the parts join to sha256 $got, want $want"

rm -rf "$tmp/.gpu-model"
bash "$tmp/scripts/gpu_bundle.sh" --model >"$tmp/out.txt" 2>&1 || { cat "$tmp/out.txt"; fail "bundling whole"; }
[[ -f "$tmp/.gpu-model/$name" ]] || fail "no option: expected one file .gpu-model/$name"
[[ "$(sha256sum "$tmp/.gpu-model/$name" | cut -d' ' -f1)" == "$want" ]] || fail "the whole copy has another sha256"

set +e
bash "$tmp/scripts/gpu_bundle.sh" --model --max-part-size 12parsecs >"$tmp/out.txt" 2>"$tmp/err.txt"
rc=$?
set -e
((rc == 2)) || fail "a bad --max-part-size exited $rc, want 2"
grep -q "12parsecs" "$tmp/err.txt" || fail "the error does not name the bad size: $(cat "$tmp/err.txt")"
echo "gpu_bundle_test: passed (3 parts <= 40 MiB joining to the model's sha256; one file without the option; bad size exit 2)"
