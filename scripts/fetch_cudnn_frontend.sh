#!/usr/bin/env bash
# Fetch the cuDNN frontend (NVIDIA's header-only C++ graph API over cuDNN,
# which cuDNN's fused attention needs) from the PyPI wheel
# nvidia-cudnn-frontend into third_party/cudnn_frontend/include/. Reuses what
# is there; checks the wheel's sha256; writes atomically (temporary folder,
# then rename).
#
# The headers are the same in every wheel of a release, so one wheel is pinned
# (CPython 3.11, manylinux x86-64) whatever the local python and machine are,
# and its sha256 is in scripts/cudnn_frontend.sha256. The frontend carries its
# own copy of nlohmann/json (cudnn_frontend/thirdparty/nlohmann/json.hpp).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="1.32.0"
pkg="nvidia-cudnn-frontend==$version"
wheel="nvidia_cudnn_frontend-$version-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
sha="$(cat "$root/scripts/cudnn_frontend.sha256")"
dest="$root/third_party/cudnn_frontend"
stamp="$dest/SOURCE"  # "<wheel> <sha256>": what include/ was unpacked from
if [[ -f "$stamp" && -f "$dest/include/cudnn_frontend.h" && "$(cat "$stamp")" == "$wheel $sha" ]]; then
  exit 0
fi
mkdir -p "$root/third_party"
# pip from the small venv of our own (scripts/fetch_model.sh makes the same one)
venv="$root/.venv"
if [[ ! -x "$venv/bin/pip" ]]; then
  python3 -m venv "$venv"
fi
pip="$venv/bin/pip"
tmp="$(mktemp -d "$root/third_party/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "fetching the cuDNN frontend headers from PyPI package $pkg" >&2
"$pip" download --quiet --no-deps --disable-pip-version-check --only-binary=:all: \
  --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$tmp" "$pkg"
if ! echo "$sha  $tmp/$wheel" | sha256sum -c --status; then
  echo "error: $wheel from $pkg does not match scripts/cudnn_frontend.sha256" >&2
  exit 1
fi
python3 - "$tmp/$wheel" "$tmp/out" <<'PY'
import os, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist() if n.startswith("include/") and not n.endswith("/")]
    if "include/cudnn_frontend.h" not in names:
        sys.exit(f"error: {whl} has no include/cudnn_frontend.h")
    for n in names:
        path = os.path.join(out, n)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(n) as src, open(path, "wb") as dst:
            dst.write(src.read())
PY
got=$(awk '/define CUDNN_FRONTEND_(MAJOR|MINOR|PATCH)_VERSION /{printf "%s%s", s, $3; s="."}' \
  "$tmp/out/include/cudnn_frontend_version.h")
[[ "$got" == "$version" ]] || { echo "error: $wheel holds frontend headers '$got', not $version" >&2; exit 1; }
echo "$wheel $sha" >"$tmp/out/SOURCE"
rm -rf "$dest.old"
[[ -e "$dest" ]] && mv "$dest" "$dest.old"
mv "$tmp/out" "$dest"
rm -rf "$dest.old"
echo "cuDNN frontend $version headers: $dest/include" >&2
