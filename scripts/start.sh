#!/usr/bin/env bash
# The main job: install, ingest seeds/ (a no-op when nothing changed), then serve the chat page.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/rag ingest
exec .venv/bin/rag serve "$@"
