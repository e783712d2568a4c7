"""Direct answers on articles that have nothing to do with the seeds: a volcano, a bridge, a coach, a lab.

The answerer knows no corpus: these articles were never used to fit anything.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.conversation import resolve_person

GENERAL = Path(__file__).parent / "data" / "general"


@pytest.fixture(scope="module")
def general(tmp_path_factory) -> Assistant:
    root = tmp_path_factory.mktemp("general")
    shutil.copytree(GENERAL, root / "articles")
    assistant = Assistant(Settings(data_dir=root / "data", corpus=[root / "articles"]))
    assert assistant.ingest(progress=False).errors == []
    return assistant


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "short", "source"),
    [
        ("Who is Northfield United's new head coach?", "Sofia Almeida", "football.txt"),
        ("When did the footbridge open?", "14 March 2024", "bridge.txt"),
        ("How many charging cycles did the new cells survive?", "1,000", "lab.txt"),
    ],
)
def test_a_name_date_or_number_question_starts_with_the_short_answer(general, question, short, source):
    answer = general.ask(question)
    assert answer.short_answer is not None and answer.short_answer.text == short
    assert answer.short_answer.source == source
    assert answer.answer.startswith(f"{short} [1]. “")  # then the quoted evidence
    text = (GENERAL / source).read_text(encoding="utf-8")
    assert text[answer.short_answer.start : answer.short_answer.end] == short  # a verbatim span of the file
    assert answer.to_dict()["short_answer"] == {
        "text": short,
        "source": source,
        "start": answer.short_answer.start,
        "end": answer.short_answer.end,
    }


@pytest.mark.slow
def test_a_why_question_gets_the_explaining_sentence_and_no_short_answer(general):
    answer = general.ask("Why are cyclists not allowed on the bridge at weekends?")
    assert not answer.abstained and answer.short_answer is None
    assert "reserved for pedestrians" in answer.answer


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2022 FIFA World Cup?",
        pytest.param(
            "Who scored the winning goal in the derby?",
            marks=pytest.mark.xfail(strict=True, reason="known miss since the rarity refit: a club"),
        ),
    ],
)
def test_questions_the_articles_do_not_answer_abstain(general, question):
    answer = general.ask(question)
    assert answer.abstained and answer.citations == [] and answer.short_answer is None


def test_a_follow_up_pronoun_is_resolved_by_the_named_entity_model():
    history = [("Who leads the lab?", "The team, led by chemist Dr. Amara Okafor, replaced cobalt [1].")]
    assert resolve_person("What did she say about industry?", history) == "What did Amara Okafor say about industry?"
