"""Only an ingest after an unfinished write pays for repairing the index.

Repairing reads every id of both collections and of their records (seconds at 10 000 articles),
so it runs only when a mark says the last write to the collections did not finish: a kill or a
failure between Chroma's write and the records' leaves it behind.
"""

from __future__ import annotations

import pytest

from rag import Assistant
from tests.conftest import fake_settings, write

ARTICLE = "Footbridge Opens\n\nThe new footbridge over the canal opened on Tuesday. It took two years to build.\n"


@pytest.fixture
def ingested(tmp_path) -> Assistant:
    (tmp_path / "articles").mkdir()
    write(tmp_path / "articles", "bridge.txt", ARTICLE)
    assistant = Assistant(fake_settings(tmp_path))
    assistant.ingest(progress=False)
    return assistant


def test_a_finished_ingest_leaves_no_mark_and_the_next_one_skips_the_repair(ingested, monkeypatch):
    store = ingested.store
    assert not store.unfinished.exists()
    monkeypatch.setattr(type(store), "repair", lambda self: pytest.fail("repaired an index whose writes finished"))
    again = ingested.ingest(progress=False)
    assert again.skipped > 0 and again.embedded == 0


def test_after_an_unfinished_write_the_next_ingest_drops_what_was_half_written(ingested):
    store = ingested.store
    with store.writing():  # what a kill between Chroma's write and the records' leaves: a vector with no record
        store.vectors.add_texts(["A sentence no record knows of."], metadatas=[{"path": "/gone.txt"}], ids=["orphan"])
    store.unfinished.touch()

    ingested.ingest(progress=False)

    assert store.vectors.get(ids=["orphan"])["ids"] == []
    assert not store.unfinished.exists()


def test_a_failed_write_keeps_the_mark(ingested):
    store = ingested.store
    with pytest.raises(RuntimeError), store.writing(), store.unfinished_writes():
        raise RuntimeError("disk gone half-way")
    assert store.unfinished.exists()
