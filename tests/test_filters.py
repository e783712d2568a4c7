"""Date and outlet filters inside retrieval, recency, and dates shown with the quotes they date."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from rag import Assistant, InvalidQuestion, Settings
from rag.filters import ArticleFilter, asks_for_recent
from tests.conftest import write

# Three reports of one storm: two outlets, three dates. Each gives a different count of piers.
DATED = {
    "coast-feb.md": "---\ntitle: Storm Closes Piers\ndate: 2025-02-11\noutlet: Coast Times\n"
    "url: https://coast.example/piers\n---\n"
    "The harbour master said the storm closed three piers at the northern harbour on Monday.\n"
    "Fishing boats were moved to the southern basin while engineers inspected the damage.\n",
    "ledger-mar.txt": "Title: Harbour Damage Worse Than Feared\nOutlet: Daily Ledger\nDate: 2025-03-02\n\n"
    "The harbour master said the storm closed five piers at the northern harbour, more than first reported.\n"
    "Insurers expect the repair bill to pass two million euros.\n",
    "coast-apr.txt": "Source: Coast Times\n\nPiers Reopen\nApril 20, 2025\n\n"
    "The harbour master said the storm closed seven piers at the northern harbour, now all reopened.\n"
    "The last repairs finished on Friday, two weeks ahead of schedule.\n",
}
PIERS = "How many piers did the storm close at the northern harbour?"


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory) -> Assistant:
    root = tmp_path_factory.mktemp("newsroom")
    corpus = root / "articles"
    corpus.mkdir()
    for name, text in DATED.items():
        write(corpus, name, text)
    assistant = Assistant(Settings(data_dir=root / "data", corpus=[corpus]))
    report = assistant.ingest(progress=False)
    assert report.errors == [] and report.files == 3
    return assistant


def cited(answer) -> set[str]:
    return {c.source for c in answer.citations}


@pytest.mark.slow
def test_without_a_filter_every_report_competes(newsroom):
    sources = {d.metadata["source"] for d in newsroom.search(PIERS)}
    assert sources == set(DATED)


@pytest.mark.slow
def test_an_outlet_filter_answers_only_from_that_outlet(newsroom):
    answer = newsroom.ask(PIERS, filters=ArticleFilter.parse(outlets=["daily ledger"]))  # any case
    assert cited(answer) == {"ledger-mar.txt"}
    assert "five piers" in answer.answer
    only = newsroom.search(PIERS, filters=ArticleFilter(outlets=("Daily Ledger",)))
    assert {d.metadata["source"] for d in only} == {"ledger-mar.txt"}


@pytest.mark.slow
def test_a_date_range_answers_only_from_articles_inside_it(newsroom):
    february = ArticleFilter.parse(since="2025-02-01", until="2025-02-28")
    answer = newsroom.ask(PIERS, filters=february)
    assert cited(answer) == {"coast-feb.md"}
    assert "three piers" in answer.answer
    both = ArticleFilter.parse(since="2025-03-01", outlets=["Coast Times"])
    assert {d.metadata["source"] for d in newsroom.search(PIERS, filters=both)} == {"coast-apr.txt"}


@pytest.mark.slow
def test_the_keyword_index_obeys_the_filter_too(tmp_path, newsroom):
    keywords_only = Assistant(newsroom.settings.model_copy(update={"retriever": "bm25", "top_k": 0}))
    found = keywords_only.search("insurers repair bill euros", filters=ArticleFilter.parse(outlets=["Coast Times"]))
    assert found and {d.metadata["source"] for d in found} <= {"coast-feb.md", "coast-apr.txt"}
    assert {d.metadata["source"] for d in keywords_only.search("insurers repair bill euros")} >= {"ledger-mar.txt"}


@pytest.mark.slow
def test_a_filter_nothing_matches_abstains_and_says_why(newsroom):
    answer = newsroom.ask(PIERS, filters=ArticleFilter.parse(since="2030-01-01"))
    assert answer.abstained and answer.citations == []
    assert "No indexed article matches the filter" in answer.notice


@pytest.mark.slow
def test_citations_carry_date_outlet_url_and_the_answer_states_the_date(newsroom):
    answer = newsroom.ask(PIERS, filters=ArticleFilter.parse(until="2025-02-28"))
    first = answer.to_dict()["citations"][0]
    assert (first["date"], first["outlet"], first["url"]) == (
        "2025-02-11",
        "Coast Times",
        "https://coast.example/piers",
    )
    assert "[1] (11 Feb 2025)" in answer.answer
    json.dumps(answer.to_dict())  # still plain JSON


@pytest.mark.slow
def test_latest_questions_let_the_newest_report_win(newsroom):
    latest = newsroom.ask("What is the latest on how many piers the storm closed at the northern harbour?")
    assert latest.citations[0].source == "coast-apr.txt"
    assert asks_for_recent("What is the most recent statement?") and not asks_for_recent(PIERS)
    order = [s.sentence.source for s in newsroom.ranked(PIERS)]
    assert order.index("coast-feb.md") < order.index("coast-apr.txt")  # by relevance, February's report first
    always = Assistant(newsroom.settings.model_copy(update={"recency": True}))
    order = [s.sentence.source for s in always.ranked(PIERS)]
    assert order.index("coast-apr.txt") < order.index("coast-feb.md")  # a near tie: the newer wins


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"since": "yesterday-ish"}, "since 'yesterday-ish' is not a date"),
        ({"until": 20250211}, "until must be a date"),
        ({"since": "2025-03-01", "until": "2025-02-01"}, "is after until"),
        ({"outlets": [""]}, "non-empty outlet names"),
        ({"outlets": {"a": 1}}, "must be a list"),
    ],
)
def test_bad_filters_are_clear_errors(arguments, message):
    with pytest.raises(InvalidQuestion, match=message):
        ArticleFilter.parse(**arguments)


def test_a_filter_is_one_chroma_where_clause():
    assert ArticleFilter().where() is None and not ArticleFilter()
    where = ArticleFilter(since=dt.date(2025, 2, 1), outlets=("Coast  Times",)).where()
    assert where == {"$and": [{"day": {"$gte": 20250201}}, {"outlet_key": {"$in": ["coast times"]}}]}
