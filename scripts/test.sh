#!/usr/bin/env bash
# The whole test suite, offline: lint, unit and end-to-end tests, and the evaluation gate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
