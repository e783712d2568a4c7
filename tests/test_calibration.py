"""Scoring rules and question files of `rag calibrate` (pure functions: no index, no model)."""

from __future__ import annotations

import json

import pytest

from rag.answer_model import AnswerModel, LinearModel
from rag.calibration import normalise, read_questions, token_f1
from rag.errors import InvalidInput


def test_normalising_answers_drops_case_punctuation_and_articles():
    assert normalise("The  Rhône, in LYON!") == "rhône in lyon"


@pytest.mark.parametrize(
    ("predicted", "gold", "f1"),
    [
        ("Sofia Almeida", ["Sofia Almeida"], 1.0),
        ("Almeida", ["Sofia Almeida", "Coach Almeida"], 2 / 3),
        ("the coach", ["Sofia Almeida"], 0.0),
        ("42 million euros", ["42 million"], 0.8),
    ],
)
def test_short_answers_are_scored_by_squad_token_f1(predicted, gold, f1):
    assert token_f1(predicted, gold) == pytest.approx(f1)


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
