"""`rag eval`: a checked evaluation set, metrics per kind, reports, and a gate that catches broken retrieval."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter

import pytest

from rag import Answer, Assistant, Citation, InvalidInput, Settings
from rag.evaluation import load_cases, read_baseline, regressions
from rag.evaluation.dataset import KINDS
from rag.evaluation.metrics import score, token_f1
from rag.evaluation.runner import Run, evaluate
from tests.conftest import REPO, SEEDS
from tests.servers import RAG

CASES = load_cases(REPO / "eval" / "questions.jsonl")
BASELINE = read_baseline(REPO / "eval" / "baseline.json")


def test_the_evaluation_set_covers_every_article_and_every_kind():
    kinds = Counter(case.kind for case in CASES)
    assert len(CASES) >= 60
    assert set(kinds) == set(KINDS)
    assert kinds["unanswerable"] >= 12
    assert {path.name for path in SEEDS.iterdir()} <= {source for case in CASES for source in case.sources}
    assert all(len(case.sources) >= 2 for case in CASES if case.kind == "multi_source")
    assert all(case.history for case in CASES if case.kind == "follow_up")
    assert all(any("\u0900" <= ch <= "\u097f" for ch in case.question) for case in CASES if case.kind == "hindi")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not a JSON object"),
        ('{"id": "x", "kind": "name", "question": "Who?"}', "needs `answers` and `sources`"),
        ('{"id": "x", "kind": "gossip", "question": "Who?", "answers": ["a"], "sources": ["f"]}', "kind 'gossip'"),
        ('{"id": "x", "kind": "name", "question": "Who?", "answerable": false}', "goes with kind `unanswerable`"),
        ('{"id": "x", "kind": "name", "question": "Who?", "answers": ["a"], "sources": ["f"], "extra": 1}', "extra"),
    ],
)
def test_a_malformed_record_is_refused_naming_its_line(tmp_path, line, problem):
    path = tmp_path / "questions.jsonl"
    good = '{"id": "ok", "kind": "unanswerable", "question": "Why?", "answerable": false}'
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=rf"questions.jsonl:2: .*{problem}"):
        load_cases(path)


def test_token_f1_rewards_answers_that_are_right_and_short():
    assert token_f1("Munir Akram", "Munir Akram") == 1.0
    assert token_f1("the envoy Munir Akram spoke", "Munir Akram") == pytest.approx(2 * (2 / 5) / (2 / 5 + 1))
    assert token_f1("nothing in common", "Munir Akram") == 0.0


def test_an_answer_is_scored_on_its_text_ranking_and_citations():
    case = CASES[0]
    wrong_file = next(p.name for p in SEEDS.iterdir() if p.name not in case.sources)
    cite = lambda n, source: Citation(n, source, "t", case.answers[0], 0, 1, 0, 1.0)  # noqa: E731
    answer = Answer(case.question, f"{case.answers[0]} [1] [2]", [cite(1, case.sources[0]), cite(2, wrong_file)])
    outcome = score(case, answer, ranked=[wrong_file, case.sources[0]], ms=12.0)
    assert outcome.correct and not outcome.hit_at_1 and outcome.hit_at_5
    assert outcome.reciprocal_rank == 0.5
    assert outcome.citation_precision == 0.5 and outcome.citation_recall == 1.0
    assert not outcome.passed  # right words, but the best-ranked source was the wrong file


def test_the_gate_names_each_metric_worse_than_its_tolerance_allows():
    baseline = {
        "tolerance": {"quality": 0.02, "latency_factor": 5},
        "metrics": {"hit_at_1": 0.9, "accuracy": 0.9, "false_abstention": 0.1, "latency_p50_ms": 100},
    }
    assert (
        regressions({"hit_at_1": 0.89, "accuracy": 0.95, "false_abstention": 0.11, "latency_p50_ms": 400}, baseline)
        == []
    )
    problems = regressions(
        {"hit_at_1": 0.85, "accuracy": 0.9, "false_abstention": 0.2, "latency_p50_ms": 600}, baseline
    )
    assert [p.split(":")[0] for p in problems] == ["hit_at_1", "false_abstention", "latency_p50_ms"]


def test_a_shuffled_index_fails_the_gate(tmp_path):
    """Passages credited to the wrong articles: the answers still read well, but citations are wrong."""
    corpus = tmp_path / "seeds"
    shutil.copytree(SEEDS, corpus)
    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus=[corpus]))
    assistant.ingest(progress=False)
    for vectors, _ in assistant.store.layers():
        _credit_each_passage_to_the_next_article(vectors._collection)

    run = Run("shuffled", {}, evaluate(assistant, CASES))
    failed = {line.split(":")[0] for line in regressions(run.metrics, BASELINE)}
    assert {"hit_at_1", "mrr", "citation_precision"} <= failed


def test_rag_eval_gates_on_the_baseline_and_fails_when_retrieval_is_switched_off(tmp_path):
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(c.model_dump_json() for c in CASES if c.kind in {"name", "unanswerable"}) + "\n")
    baseline, out = tmp_path / "baseline.json", tmp_path / "out"
    common = ["--questions", str(few), "--baseline", str(baseline), "--out", str(out), "--corpus", str(SEEDS)]

    made = subprocess.run([RAG, "eval", *common, "--update-baseline"], capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    assert {"hit_at_1", "accuracy", "abstain_accuracy"} <= set(json.loads(baseline.read_text())["metrics"])
    assert {p.name for p in out.iterdir()} == {"result.json", "report.md", "chart.png"}
    assert "| name |" in (out / "report.md").read_text()

    same = subprocess.run([RAG, "eval", *common], capture_output=True, text=True, timeout=600)
    assert same.returncode == 0 and "eval: pass" in same.stdout

    broken = subprocess.run(
        [RAG, "eval", *common, "--top-k", "0", "--top-sentences", "0"], capture_output=True, text=True, timeout=600
    )
    assert broken.returncode == 1
    assert "REGRESSION hit_at_1" in broken.stdout and "eval: FAIL" in broken.stdout


def test_compare_puts_configurations_side_by_side_without_gating(tmp_path):
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(c.model_dump_json() for c in CASES[:4]) + "\n")
    result = subprocess.run(
        [
            RAG,
            "eval",
            "--questions",
            str(few),
            "--out",
            str(tmp_path),
            "--corpus",
            str(SEEDS),
            "--compare",
            "default",
            "top_k=0,top_sentences=0",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("metric"))
    assert "default" in header and "top_k=0,top_sentences=0" in header
    runs = json.loads((tmp_path / "result.json").read_text())["runs"]
    assert runs[0]["metrics"]["hit_at_1"] > runs[1]["metrics"].get("hit_at_1", 0.0)


def test_compare_refuses_an_unknown_setting(tmp_path):
    result = subprocess.run([RAG, "eval", "--compare", "top_kk=3"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "unknown setting(s) top_kk" in result.stderr


def _credit_each_passage_to_the_next_article(collection) -> None:
    found = collection.get(include=["metadatas"])
    files = sorted({m["source"] for m in found["metadatas"]})
    owner = {m["source"]: (m["source"], m["path"], m["title"]) for m in found["metadatas"]}
    moved = []
    for meta in found["metadatas"]:
        source, path, title = owner[files[(files.index(meta["source"]) + 1) % len(files)]]
        moved.append(meta | {"source": source, "path": path, "title": title})
    collection.update(ids=found["ids"], metadatas=moved)
