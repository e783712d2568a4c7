"""Regression evaluation: ask every question of eval/questions.jsonl, report metrics, gate on baseline.

    .venv/bin/python eval/run.py                   # fresh index of seeds/ in a temp folder
    .venv/bin/python eval/run.py --update-baseline # after a deliberate change, store new floors

Exit code 1 when a quality metric falls below eval/baseline.json; latencies are reported only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from rag import Assistant, Settings  # noqa: E402

GATED = ("source_at_1", "answer_match", "answered", "abstain_accuracy")
TOLERANCE = 1e-9


def evaluate(assistant: Assistant, questions: list[dict]) -> tuple[dict, list[dict]]:
    rows = []
    for item in questions:
        began = time.perf_counter()
        answer = assistant.ask(item["question"], [tuple(pair) for pair in item.get("history", [])])
        seconds = time.perf_counter() - began
        answerable = item.get("answerable", True)
        first = answer.citations[0].source if answer.citations else None
        rows.append(
            {
                "id": item["id"],
                "answerable": answerable,
                "abstained": answer.abstained,
                "source_ok": answerable and first in item["sources"],
                "answer_ok": answerable and any(s.lower() in answer.answer.lower() for s in item["answer_contains"]),
                "citations": len(answer.citations),
                "citations_ok": sum(c.source in item.get("sources", []) for c in answer.citations),
                "generated": answer.answerer == "llm" and not answer.abstained,
                "fell_back": answer.answerer != "llm" and answer.notice is not None,
                "seconds": seconds,
                "question": item["question"],
                "answer": answer.answer,
            }
        )
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    latencies = sorted(r["seconds"] for r in rows)
    metrics = {
        "questions": len(rows),
        "source_at_1": _share(r["source_ok"] for r in answerable),
        "answer_match": _share(r["answer_ok"] for r in answerable),
        "answered": _share(not r["abstained"] for r in answerable),
        "abstain_accuracy": _share(r["abstained"] for r in unanswerable),
        # Of all citations given for answerable questions, the share pointing at an expected file.
        "citation_precision": round(
            sum(r["citations_ok"] for r in answerable) / max(1, sum(r["citations"] for r in answerable)), 4
        ),
        "generated": sum(r["generated"] for r in rows),  # answers written by a language model
        "fell_back": sum(r["fell_back"] for r in rows),  # model failed: quoted answer shown instead
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
    }
    return metrics, rows


def _share(flags) -> float:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=HERE / "questions.jsonl")
    parser.add_argument("--baseline", type=Path, default=HERE / "baseline.json")
    parser.add_argument("--corpus", type=Path, default=HERE.parent / "seeds")
    parser.add_argument("--update-baseline", action="store_true", help="write the measured metrics as the new floors")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every question and answer")
    parser.add_argument("--report-only", action="store_true", help="print the metrics without gating on a baseline")
    args = parser.parse_args(argv)

    try:
        questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
        baseline = {} if args.report_only or args.update_baseline else json.loads(args.baseline.read_text())
    except (OSError, json.JSONDecodeError) as problem:
        parser.error(f"cannot read the questions or the baseline: {problem}")
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as data_dir:
        assistant = Assistant(Settings(data_dir=Path(data_dir)))
        print(assistant.ingest([args.corpus], progress=False).summary())
        metrics, rows = evaluate(assistant, questions)

    for row in rows:
        ok = row["abstained"] if not row["answerable"] else row["source_ok"] and row["answer_ok"]
        if args.verbose or not ok:
            print(f"{'ok ' if ok else 'MISS'} {row['id']}: {row['question']}\n      -> {row['answer'][:200]}")
    print(json.dumps(metrics, indent=2))

    if args.update_baseline:
        args.baseline.write_text(json.dumps({k: metrics[k] for k in GATED}, indent=2) + "\n")
        print(f"baseline written to {args.baseline}")
        return 0
    drops = [f"{k}: {metrics[k]} < baseline {v}" for k, v in baseline.items() if metrics[k] < v - TOLERANCE]
    for drop in drops:
        print(f"REGRESSION {drop}")
    if args.report_only:
        return 0
    print("eval: FAIL" if drops else "eval: pass (no metric below baseline)")
    return 1 if drops else 0


if __name__ == "__main__":
    sys.exit(main())
