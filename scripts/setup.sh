#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the project into it. Usage: scripts/setup.sh [EXTRA]
# torch is pinned to the CPU build on local disk: an unpinned torch pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
log=.venv/install.log
echo "Installing into .venv/ (log: $log) ..."
if ! { .venv/bin/python -m pip install --disable-pip-version-check "torch==2.13.0" &&
       .venv/bin/python -m pip install --disable-pip-version-check -e ".${extra:+[$extra]}"; } >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "install failed; full log in $log" >&2
  exit 1
fi
