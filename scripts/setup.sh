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
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra:+[$extra]}"
