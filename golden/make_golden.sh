#!/usr/bin/env bash
# Regenerate the golden files (golden/*.h5, golden/models/, golden/MANIFEST.sha256;
# golden/tokenizer_corpus.jsonl is an input, kept by hand, listed in the manifest too).
# See golden/FORMAT.md. Never part of the tests or CI: the outputs are committed.
#
#   bash golden/make_golden.sh [make_golden.py args, e.g. --only tiny_llama]
#
# 1. .venv-golden at the repository root, from golden/requirements.txt
#    (installed when missing or when the requirements changed: hash stamp in the venv)
# 2. scripts/fetch_model.sh (SmolLM2-135M-Instruct Q4_1 GGUF into models/)
# 3. golden/make_golden.py (writes every output atomically: temp file, then rename)
# 4. golden/check_golden.py (structure of the files against FORMAT.md)
# 5. golden/MANIFEST.sha256 (every .h5, the corpus, every file under golden/models/)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv-golden"
req="$root/golden/requirements.txt"
stamp="$venv/.goldpath-requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  echo "make_golden: creating $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "make_golden: installing golden/requirements.txt into $venv" >&2
  rm -f "$stamp"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
  echo "$want" > "$stamp.tmp"
  mv -f "$stamp.tmp" "$stamp"
fi

bash "$root/scripts/fetch_model.sh"

# One thread, CPU only, nothing from the network: deterministic output.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
export CUDA_VISIBLE_DEVICES="" TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1
export HF_HUB_DISABLE_TELEMETRY=1

"$venv/bin/python" "$root/golden/make_golden.py" "$@"
"$venv/bin/python" "$root/golden/check_golden.py"

cd "$root/golden"
tmp="$(mktemp .MANIFEST.sha256.XXXXXX)"
trap 'rm -f "$tmp"' EXIT
{ ls -1 -- *.h5 *.jsonl; find models -type f ! -path '*/.*'; } | LC_ALL=C sort | xargs -d '\n' sha256sum -- > "$tmp"
chmod 644 "$tmp"
mv -f "$tmp" MANIFEST.sha256
trap - EXIT
echo "make_golden: wrote golden/MANIFEST.sha256" >&2
du -sh "$root/golden" >&2
