#!/usr/bin/env bash
# The whole test suite, offline: lint, the docs site, unit, API and browser tests, and the evaluation gate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
if ! command -v chromium >/dev/null; then  # the browser tests drive Debian's Chromium
  echo "Installing Debian's chromium for the browser tests ..."
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/ruff check .
.venv/bin/mkdocs build --strict  # broken links or a missing figure fail; output in site/ (git-ignored)
.venv/bin/python -m pytest "$@"
bash scripts/eval.sh --no-progress  # the quality gates: seeds, then the SQuAD 2.0 benchmark when ../shared has it
