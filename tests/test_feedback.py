"""Feedback becomes evaluation: `rag feedback export` writes records `rag eval` reads and runs."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from rag import InvalidQuestion, Settings, feedback
from rag.evaluation.dataset import load_cases
from tests.conftest import write
from tests.servers import RAG
from tests.test_filters import DATED, PIERS

WRONG = "The harbour master said the storm closed three piers at the northern harbour on Monday. [1]"
CITED = [{"n": 1, "source": "coast-feb.md", "quote": "The harbour master said ...", "start": 79, "end": 163}]


def give(settings: Settings, **fields) -> dict:
    return feedback.record(
        settings, {"question": PIERS, "answer": WRONG, "verdict": "down", "citations": CITED} | fields
    )


def exported(settings: Settings, sources_with=lambda text: []) -> tuple[list[dict], list[str]]:
    entries, _ = feedback.read(settings)
    items = list(feedback.export(entries, sources_with))
    return [i for i in items if isinstance(i, dict)], [i for i in items if isinstance(i, str)]


def test_a_thumbs_down_with_a_correction_becomes_an_answerable_case(tmp_path):
    settings = Settings(data_dir=tmp_path)
    give(settings, correction="seven piers")
    cases, _ = exported(settings, lambda text: ["coast-apr.txt"] if text == "seven piers" else [])
    assert cases == [
        {
            "id": cases[0]["id"],
            "question": PIERS,
            "kind": "number",  # "How many ...": a kind the evaluation set already has
            "answers": ["seven piers"],
            "sources": ["coast-apr.txt"],
            "history": [],
            "answerable": True,
        }
    ]


def test_a_thumbs_down_on_a_quoted_answer_without_correction_becomes_unanswerable(tmp_path):
    settings = Settings(data_dir=tmp_path)
    give(settings, history=[["Who runs the harbour?", "The harbour master."]])
    cases, _ = exported(settings)
    assert cases[0]["answerable"] is False and cases[0]["kind"] == "unanswerable"
    assert cases[0]["history"] == [["Who runs the harbour?", "The harbour master."]]


def test_the_last_verdict_on_an_answer_counts_and_thumbs_up_exports_nothing(tmp_path):
    settings = Settings(data_dir=tmp_path)
    give(settings)  # 👎 first ...
    give(settings, correction="seven piers")  # ... then the right answer: one answerable case, not two
    feedback.record(settings, {"question": "Who?", "answer": "Someone. [1]", "verdict": "up", "citations": CITED})
    feedback.record(settings, {"question": "Why?", "answer": "The articles don't say.", "verdict": "down"})
    cases, notes = exported(settings, lambda text: ["coast-apr.txt"])
    assert [c["answers"] for c in cases] == [["seven piers"]]
    assert any("abstention without a correction" in n for n in notes)
    assert len(feedback.read(settings)[0]) == 4  # append-only: every verdict is still there


def test_a_correction_found_in_no_article_falls_back_to_the_cited_ones(tmp_path):
    settings = Settings(data_dir=tmp_path)
    give(settings, correction="eleven piers")
    assert exported(settings)[0][0]["sources"] == ["coast-feb.md"]


def test_unreadable_lines_are_skipped_with_a_note(tmp_path):
    settings = Settings(data_dir=tmp_path)
    give(settings)
    with feedback.feedback_path(settings).open("a", encoding="utf-8") as file:
        file.write("{broken\n[1, 2]\n")
    entries, notes = feedback.read(settings)
    assert len(entries) == 1 and len(notes) == 2 and "feedback.jsonl:2" in notes[0]


def test_bad_verdicts_are_refused(tmp_path):
    with pytest.raises(InvalidQuestion, match="verdict"):
        feedback.record(Settings(data_dir=tmp_path), {"question": "q", "answer": "a", "verdict": "sideways"})
    assert not feedback.feedback_path(Settings(data_dir=tmp_path)).exists()


@pytest.mark.slow
def test_exported_records_are_accepted_and_run_by_rag_eval(tmp_path):
    """The CLI end to end: ingest, 👎 with a correction, export, then `rag eval` on the export."""
    corpus = tmp_path / "articles"
    corpus.mkdir()
    for name, text in DATED.items():
        write(corpus, name, text)
    data_dir = tmp_path / "data"
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    subprocess.run([RAG, "ingest", "--data-dir", str(data_dir), str(corpus)], check=True, env=env, timeout=300)
    settings = Settings(data_dir=data_dir)
    give(settings, correction="seven piers")  # what the page or POST /api/feedback stores
    give(settings, question="Who paid for the lighthouse?", answer="The harbour master said ... [1]")
    run = subprocess.run(
        [RAG, "feedback", "export", "--data-dir", str(data_dir)], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert {(r["answerable"], tuple(r["sources"])) for r in records} == {(True, ("coast-apr.txt",)), (False, ())}
    questions = tmp_path / "feedback-eval.jsonl"
    questions.write_text(run.stdout, encoding="utf-8")
    assert len(load_cases(questions)) == 2
    evaluated = subprocess.run(
        [
            RAG,
            "eval",
            "--questions",
            str(questions),
            "--corpus",
            str(corpus),
            "--report-only",
            "--no-progress",
            "--out",
            str(tmp_path / "eval-out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    (run_,) = json.loads((tmp_path / "eval-out" / "result.json").read_text())["runs"]
    assert set(run_["per_kind"]) == {"number", "unanswerable"}  # both exported cases were asked and scored
    assert run_["metrics"]["abstain_accuracy"] == 1.0  # nothing in the articles says who paid for the lighthouse
