#!/usr/bin/env bash
# Create or refresh .venv-report, the pinned plotting environment that
# `goldpath report` runs reports/make_report.py in (reports/requirements.txt).
# Reuses the venv while the requirements are unchanged (hash stamp in the venv);
# installs into a temporary venv and renames it into place, so an interrupted
# install never leaves a half-made .venv-report behind.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-report"
req="$root/reports/requirements.txt"
stamp="$venv/.goldpath-requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "report_venv: installing reports/requirements.txt into $venv" >&2
tmp="$root/.venv-report.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
python3 -m venv "$tmp"
"$tmp/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
echo "$want" > "$tmp/.goldpath-requirements.sha256"
rm -rf "$venv"
mv "$tmp" "$venv"
trap - EXIT
