"""Scoring rules, question files and fitting of `rag calibrate` (no index, no embedding model)."""

from __future__ import annotations

import json
import subprocess

import pytest
from langchain_core.documents import Document

from rag.answer import decide
from rag.answer_model import AnswerModel, LinearModel
from rag.calibration import Labelled, fit_choice, read_questions
from rag.errors import InvalidInput
from rag.evidence import Evidence, SentenceEvidence, sentence_features
from rag.nlp import shared_parser
from rag.question import analyse
from rag.rerank import Scored, Sentence
from rag.spans import Candidate
from tests.conftest import GENERAL
from tests.servers import RAG


def test_question_files_may_carry_any_extra_fields_and_no_kind(tmp_path):
    path = tmp_path / "mine.jsonl"
    records = [
        {"question": "Who coaches Northfield?", "answers": ["Sofia Almeida"], "sources": ["football.txt"], "x": 1},
        {"question": "Who owns the moon?", "answerable": False, "written_against": "lab.txt"},
        {"question": "What did she say?", "answers": ["x"], "sources": ["a.txt"], "history": [["q", "a"]]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    cases = read_questions(path, "mine")
    assert [(c.question, c.answerable, c.group) for c in cases] == [
        ("Who coaches Northfield?", True, "football.txt"),
        ("Who owns the moon?", False, "lab.txt"),
    ]  # follow-ups depend on an earlier answer and are left out


def test_a_broken_question_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "fine?"}\n{"answers": []}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad.jsonl:2"):
        read_questions(path, "bad")


def test_the_model_file_round_trips_and_a_foreign_file_is_refused(tmp_path):
    model = AnswerModel(
        LinearModel({"a": 1.5}, -0.5), LinearModel({"b": 2.0}, 0.0), LinearModel({"c": -1.0}, 1.0), 0.4, 0.1, "test"
    )
    model.save(tmp_path / "model.json")
    assert AnswerModel.load(tmp_path / "model.json") == model
    assert model.span.probability({"a": 1.0, "unknown": 5.0}) == pytest.approx(1 / (1 + 2.718281828**-1.0))
    (tmp_path / "other.json").write_text('{"weights": []}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="rag calibrate"):
        AnswerModel.load(tmp_path / "other.json")


def _sentence_with(candidates: dict[str, dict[str, float]], text: str, question) -> SentenceEvidence:
    sentence = Sentence(text, "a.txt", "A", "a.txt", 0, len(text), Document(page_content=text))
    scored = Scored(sentence, 0.9, 0.9, 0.9)
    spans = [(Candidate(n, text.index(n), text.index(n) + len(n), "THING"), f) for n, f in candidates.items()]
    return SentenceEvidence(scored, 0, sentence_features(question, scored, 0, shared_parser()(text)), spans)


def test_the_candidate_ranking_learns_what_tells_the_answer_from_its_neighbours():
    """Every answer fills the asked slot; "length" is noise that both answers and rivals share."""
    cases = []
    for n in range(12):
        answer, rival = f"answer{n}", f"rival{n}"
        features = {
            answer: {"same_governor": 1.0, "length": float(n % 3)},
            rival: {"same_governor": 0.0, "length": float((n + 1) % 3)},
        }
        asked = analyse(shared_parser()("What did it encourage?"))
        evidence = Evidence(asked, [_sentence_with(features, f"{rival} and {answer}.", asked)])
        cases.append(Labelled(str(n), "toy", "What did it encourage?", [answer], ["a.txt"], True, "a.txt", evidence))
    choice = fit_choice(cases)
    assert choice.intercept == 0.0  # a ranking: only differences between candidates count
    assert choice.coef["same_governor"] > 0.5
    assert abs(choice.coef.get("length", 0.0)) < choice.coef["same_governor"] / 4
    model = AnswerModel(LinearModel({}, 0.0), LinearModel({}, 0.0), LinearModel({}, 5.0), 0.5, 0.0, "toy", choice)
    decision = decide(cases[0].evidence, model)
    assert decision.short.text == "answer0"


@pytest.mark.slow
def test_rag_calibrate_fits_a_model_the_assistant_can_load_and_writes_the_tradeoff(tmp_path):
    """End to end on a corpus the shipped model never saw: index, gather, cross-validate by article, fit."""
    records = [
        {"question": "When did the footbridge open?", "answers": ["14 March 2024"], "sources": ["bridge.txt"]},
        {"question": "How long is the bridge?", "answers": ["280 metres"], "sources": ["bridge.txt"]},
        {"question": "Who designed the footbridge?", "answers": ["Arup"], "sources": ["bridge.txt"]},
        {"question": "Who owns the footbridge's cafe?", "answerable": False, "written_against": "bridge.txt"},
        {
            "question": "How many residents were told to leave?",
            "answers": ["77", "About 77"],
            "sources": ["volcano.txt"],
        },
        {
            "question": "Which agency announced the alert?",
            "answers": ["Japan Meteorological Agency", "JMA"],
            "sources": ["volcano.txt"],
        },
        {"question": "How many people died in the eruption?", "answerable": False, "written_against": "volcano.txt"},
        {
            "question": "What is the name of the volcano's crater lake?",
            "answerable": False,
            "written_against": "volcano.txt",
        },
    ]
    questions = tmp_path / "general.jsonl"
    questions.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    model_file, out = tmp_path / "model.json", tmp_path / "report"
    command = [RAG, "calibrate", "--questions", f"general={questions}",
               "--corpus", str(GENERAL), "--data-dir", str(tmp_path / "data"), "--write", str(model_file),
               "--out", str(out), "--no-progress"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "general (articles unseen by the fit" in result.stdout
    model = AnswerModel.load(model_file)
    assert model.choice is not None and model.span.coef and model.answerable.coef
    assert "8 questions" in model.fitted_on
    table = (out / "tradeoff.md").read_text(encoding="utf-8")
    assert table.startswith("| threshold | general:") and "**(default)**" in table
    assert (out / "tradeoff.png").read_bytes().startswith(b"\x89PNG")
