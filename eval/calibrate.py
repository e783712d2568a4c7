"""Calibrate the abstention threshold (`min_relevance`) on the evaluation set, in one pass.

Every question is answered with the threshold at 0, keeping the best sentence's score; then each
candidate threshold is applied after the fact. Prints, per threshold: accuracy (answered and
right), abstention on unanswerable questions, false abstention on answerable ones, and their
balance (accuracy + abstain accuracy) / 2, which is what the default is chosen by.

    .venv/bin/python eval/calibrate.py [--questions FILE] [--from 0.30 --to 0.60 --step 0.02]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from rag import Assistant, Settings
from rag.evaluation import load_cases
from rag.evaluation.metrics import score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=Path(__file__).parent / "questions.jsonl")
    parser.add_argument("--from", dest="low", type=float, default=0.30)
    parser.add_argument("--to", dest="high", type=float, default=0.60)
    parser.add_argument("--step", type=float, default=0.02)
    args = parser.parse_args()

    cases = load_cases(args.questions)
    with tempfile.TemporaryDirectory(prefix="rag-calibrate-") as folder:
        assistant = Assistant(Settings(data_dir=Path(folder), min_relevance=0.0))
        assistant.ingest(progress=False)
        rows = []
        for case in cases:
            answer = assistant.ask(case.question, case.history)
            best = answer.citations[0].score if answer.citations else 0.0
            rows.append((case.answerable, best, score(case, answer, [], 0.0).correct))

    answerable = [r for r in rows if r[0]]
    unanswerable = [r for r in rows if not r[0]]
    current = Settings().min_relevance
    print(f"{'threshold':>9} {'accuracy':>9} {'abstain':>8} {'false abs':>9} {'balance':>8}")
    steps = round((args.high - args.low) / args.step) + 1
    for threshold in (round(args.low + i * args.step, 3) for i in range(steps)):
        accuracy = sum(best >= threshold and right for _, best, right in answerable) / len(answerable)
        abstain = sum(best < threshold for _, best, _ in unanswerable) / max(1, len(unanswerable))
        false = sum(best < threshold for _, best, _ in answerable) / len(answerable)
        mark = "  <- current" if abs(threshold - current) < 1e-9 else ""
        print(
            f"{threshold:>9.2f} {accuracy:>9.3f} {abstain:>8.3f} {false:>9.3f} {(accuracy + abstain) / 2:>8.3f}{mark}"
        )


if __name__ == "__main__":
    main()
