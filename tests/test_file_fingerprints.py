"""Re-ingesting skips a file the index holds whole before reading it into chunks.

A file is skipped when its bytes, path, name, the chunking settings and the code that makes
documents are what they were when it was last indexed whole; anything else, and anything that
casts doubt on the index (a removal, a repair), sends it through the full check again.
"""

from __future__ import annotations

import pytest

import rag.ingest
from rag import Assistant
from rag.articles import remove_article
from tests.conftest import fake_settings, write

BRIDGE = "Footbridge Opens\n\nThe new footbridge over the canal opened on Tuesday. It took two years to build.\n"
LAB = "Lab Expands\n\nThe university lab hired twelve researchers. Its new wing opens in May.\n"


@pytest.fixture
def articles(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder, "bridge.txt", BRIDGE)
    write(folder, "lab.txt", LAB)
    return folder


@pytest.fixture
def chunked(monkeypatch) -> list[str]:
    """The names of the files an ingest reads into chunks."""
    names: list[str] = []
    load = rag.ingest.load_article

    def counting(path, *args, **kwargs):
        names.append(path.name)
        return load(path, *args, **kwargs)

    monkeypatch.setattr(rag.ingest, "load_article", counting)
    return names


def test_an_unchanged_corpus_is_not_read_into_chunks_again_and_reports_the_same(tmp_path, articles, chunked):
    assistant = Assistant(fake_settings(tmp_path))
    first = assistant.ingest(progress=False)
    assert sorted(chunked) == ["bridge.txt", "lab.txt"]

    chunked.clear()
    again = assistant.ingest(progress=False)
    assert chunked == []
    assert (again.files, again.chunks, again.sentences) == (first.files, first.chunks, first.sentences)
    assert again.skipped == first.chunks and again.embedded == 0 and again.model_texts == 0


def test_a_changed_file_goes_through_the_full_check(tmp_path, articles, chunked):
    assistant = Assistant(fake_settings(tmp_path))
    assistant.ingest(progress=False)
    write(articles, "lab.txt", LAB.replace("twelve", "fifteen"))
    chunked.clear()

    report = assistant.ingest(progress=False)

    assert chunked == ["lab.txt"] and report.embedded >= 1
    assert "fifteen researchers" in assistant.ask("How many researchers did the lab hire?").answer


def test_a_removed_article_is_indexed_again_by_the_next_ingest(tmp_path, articles):
    assistant = Assistant(fake_settings(tmp_path))
    assistant.ingest(progress=False)
    remove_article(assistant, "lab.txt")
    assert assistant.store.source_metadata("lab.txt") == []

    report = assistant.ingest(progress=False)

    assert report.embedded >= 1 and assistant.store.source_metadata("lab.txt") != []


def test_a_new_copy_of_an_unchanged_file_is_the_copy(tmp_path, articles):
    assistant = Assistant(fake_settings(tmp_path))
    assistant.ingest(progress=False)
    write(articles, "a-bridge-copy.txt", BRIDGE)  # sorts first: without the skip's bookkeeping it would win

    report = assistant.ingest(progress=False)

    assert any("a-bridge-copy.txt: same text as" in note for note in report.notes)
    assert assistant.store.source_metadata("a-bridge-copy.txt") == []
    assert assistant.store.source_metadata("bridge.txt") != []


def test_other_chunk_settings_or_a_repair_send_every_file_through_the_full_check(tmp_path, articles, chunked):
    Assistant(fake_settings(tmp_path)).ingest(progress=False)
    chunked.clear()
    Assistant(fake_settings(tmp_path, chunk_tokens=120)).ingest(progress=False)
    assert sorted(chunked) == ["bridge.txt", "lab.txt"]

    assistant = Assistant(fake_settings(tmp_path, chunk_tokens=120))
    with assistant.store.writing():  # a vector with no record, as a kill half-way through a write leaves
        assistant.store.vectors.add_texts(["Nothing records this."], metadatas=[{"path": "/gone.txt"}], ids=["orphan"])
    assistant.store.unfinished.touch()
    chunked.clear()
    assistant.ingest(progress=False)
    assert sorted(chunked) == ["bridge.txt", "lab.txt"]
