#!/usr/bin/env bash
# llama_cpp_perplexity.sh: goldpath's perplexity beside llama.cpp's on the
# same GGUF and text, with the same chunking: builds llama.cpp's
# llama-perplexity and llama-tokenize from the llama-cpp-python sdist on PyPI
# (CPU only, in build-llama-cpp/, reused on a second call), checks that both
# tokenize the text to the same ids, and prints both figures.
#
#   bash scripts/llama_cpp_perplexity.sh [MODEL.gguf] [TEXT] [CTX]
#
# Defaults: the default model, golden/perplexity.txt, 128. Needs build/ (scripts/setup.sh)
# and a network for the first call. llama.cpp's CPU matrix products quantize
# the activations (to 8 bits for Q4/Q8 weights), goldpath's reference does not,
# so the figures agree closely but not to the last digit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="${1:-$root/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
text="${2:-$root/golden/perplexity.txt}"
ctx="${3:-128}"
work="$root/build-llama-cpp"
gp="$root/build/harness/goldpath"
[[ -x "$gp" ]] || { echo "llama_cpp_perplexity: no $gp; run bash scripts/setup.sh first" >&2; exit 1; }
[[ -f "$model" ]] || { echo "llama_cpp_perplexity: no model $model" >&2; exit 1; }
[[ -f "$text" ]] || { echo "llama_cpp_perplexity: no text $text" >&2; exit 1; }

bin="$work/llama.cpp/build/bin"
if [[ ! -x "$bin/llama-perplexity" || ! -x "$bin/llama-tokenize" ]]; then
  mkdir -p "$work"
  if [[ ! -d "$work/llama.cpp" ]]; then
    tmp="$(mktemp -d "$work/.sdist.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --no-deps --no-binary :all: llama-cpp-python -d "$tmp" >&2
    tar xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$tmp"
    mv "$tmp"/llama_cpp_python-*/vendor/llama.cpp "$work/llama.cpp"
  fi
  cmake -S "$work/llama.cpp" -B "$work/llama.cpp/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=OFF >&2
  cmake --build "$work/llama.cpp/build" -j"$(nproc)" --target llama-perplexity llama-tokenize >&2
fi

ids_llama="$("$bin/llama-tokenize" -m "$model" -f "$text" --ids --log-disable 2>/dev/null | tail -1 | tr -d '[] ')"
ids_gp="$("$gp" tokenize --model "$model" --file "$text")"
if [[ "$ids_llama" == "$ids_gp" ]]; then
  echo "tokens: the same $(tr ',' '\n' <<<"$ids_gp" | wc -l) ids from both"
else
  echo "tokens: llama.cpp and goldpath tokenize $text differently; the figures below are not comparable"
fi
echo "llama.cpp: $("$bin/llama-perplexity" -m "$model" -f "$text" -c "$ctx" -b "$ctx" -t "$(nproc)" 2>&1 | grep 'Final estimate' | sed 's/.*Final estimate: //')"
echo "goldpath:  $("$gp" perplexity -m "$model" -f "$text" -c "$ctx" 2>/dev/null | awk '$1 == "reference" {print "PPL = " $2 " +/- " $3}')"
