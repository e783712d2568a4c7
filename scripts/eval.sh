#!/usr/bin/env bash
# The quality gates: `rag eval` on the seeds set, then on the public SQuAD 2.0 benchmark when
# ../shared/benchmarks/squad2-dev exists. Extra arguments go to both runs, e.g.
#   bash scripts/eval.sh --update-baseline   # rewrite eval/baseline.json and eval/baseline-squad2-dev.json
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
status=0
.venv/bin/rag eval "$@" || status=$?  # fails when a metric drops below eval/baseline.json
echo "seeds gate: ${SECONDS}s"
squad=../shared/benchmarks/squad2-dev
if [ -d "$squad" ]; then
  echo
  echo "== benchmark: $squad (1,975 SQuAD 2.0 questions; gate eval/baseline-squad2-dev.json) =="
  began=$SECONDS
  .venv/bin/rag eval --corpus "$squad/corpus" --questions "$squad/questions.jsonl" "$@" || status=$?
  echo "benchmark gate: $((SECONDS - began))s (ingest, or reuse of data/eval/, plus the questions)"
else
  echo "note: $squad not found; skipping the SQuAD 2.0 benchmark gate"
fi
exit "$status"
