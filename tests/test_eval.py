"""The regression evaluation gates quality: its metrics must not fall below the stored baseline."""

import json
import sys

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "eval"))
from run import GATED, evaluate

QUESTIONS = [json.loads(line) for line in (REPO / "eval" / "questions.jsonl").read_text().splitlines() if line]
BASELINE = json.loads((REPO / "eval" / "baseline.json").read_text())


def test_eval_set_covers_answerable_unanswerable_and_follow_up_questions():
    assert len(QUESTIONS) >= 40
    assert any(not q.get("answerable", True) for q in QUESTIONS)
    assert any(q.get("history") for q in QUESTIONS)


def test_quality_does_not_drop_below_the_baseline(seeded):
    metrics, _ = evaluate(seeded, QUESTIONS)
    for name in GATED:
        assert metrics[name] >= BASELINE[name], f"{name} fell to {metrics[name]} (baseline {BASELINE[name]})"
