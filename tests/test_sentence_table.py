"""The local sentence layer: a SQLite table whose vectors live in the memory-mapped sentence matrix.

It stands where a Chroma collection stood, so these tests pin the Chroma behaviour the rest of
``rag.store`` relies on: rows by id, ``where`` filters, paging, exact nearest search with cosine
distances, deletes, LangChain's ``index()`` with a record manager, and moving an older index's
sentences out of Chroma.
"""

from __future__ import annotations

import numpy as np
import pytest
from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.indexing import index

from rag import Assistant
from rag.store.client import collection_count
from rag.store.sentence_table import SentenceTable
from rag.vectorfile import VectorFile, text_key
from tests.conftest import FAKE, fake_settings, write

SENTENCES = [
    ("a1", "The harbour committee met on Tuesday.", {"path": "/news/a.txt", "day": 20260105, "outlet_key": "gazette"}),
    ("a2", "Its chair resigned after the vote.", {"path": "/news/a.txt", "day": 20260105, "outlet_key": "gazette"}),
    ("b1", "Wheat prices rose for a third week.", {"path": "/news/b.txt", "day": 20260301, "outlet_key": "courier"}),
    ("c1", "The harbour committee met on Tuesday.", {"path": "/news/c.txt", "day": 20260410, "outlet_key": "courier"}),
]


@pytest.fixture
def table(tmp_path) -> SentenceTable:
    matrix = VectorFile(tmp_path / "vectors")
    table = SentenceTable(tmp_path / "sentences.sqlite", lambda: matrix, FAKE)
    ids, texts, metas = zip(*SENTENCES, strict=True)
    table.add_texts(list(texts), list(metas), ids=list(ids))
    return table


def test_rows_come_back_by_id_as_chroma_returns_them(table):
    found = table.get(ids=["b1", "a1", "missing"])
    assert sorted(found["ids"]) == ["a1", "b1"]
    by_id = dict(zip(found["ids"], found["documents"], strict=True))
    assert by_id["b1"] == "Wheat prices rose for a third week."
    assert table.get_by_ids(["a2"])[0].metadata["outlet_key"] == "gazette"


def test_a_text_held_by_two_rows_is_stored_once_in_the_matrix(table):
    assert table.count() == 4 and len(table.matrix()) == 3


def test_where_filters_read_like_chromas(table):
    assert table.get(where={"path": "/news/a.txt"}, include=[])["ids"] == ["a1", "a2"]
    assert table.get(where={"path": {"$in": ["/news/b.txt", "/news/c.txt"]}}, include=[])["ids"] == ["b1", "c1"]
    since_march = {"$and": [{"day": {"$gte": 20260301}}, {"outlet_key": {"$in": ["courier"]}}]}
    assert table.get(where=since_march, include=[])["ids"] == ["b1", "c1"]
    assert table.get(where={"outlet_key": {"$nin": ["courier"]}}, include=[])["ids"] == ["a1", "a2"]
    with pytest.raises(ValueError, match="not a metadata field"):
        table.get(where={"day') OR 1=1 --": 1})


def test_pages_are_stable_and_complete(table):
    pages = [table.get(include=[], limit=3, offset=offset)["ids"] for offset in (0, 3, 6)]
    assert pages == [["a1", "a2", "b1"], ["c1"], []]


def test_embeddings_are_read_from_the_matrix(table):
    found = table.get(ids=["b1"], include=["documents", "embeddings"])
    assert np.allclose(found["embeddings"][0], FAKE.embed_query("Wheat prices rose for a third week."))


def test_search_is_exact_nearest_first_with_cosine_distances(table):
    ranked = table.similarity_search_with_score("harbour committee meeting", k=3)
    assert [d.id for d, _ in ranked[:2]] == ["a1", "c1"]  # the same sentence in two files: both rows
    distances = [distance for _, distance in ranked]
    assert distances == sorted(distances) and all(0 <= d <= 2 for d in distances)
    query = np.asarray(FAKE.embed_query("harbour committee meeting"))
    assert distances[0] == pytest.approx(1 - float(query @ FAKE.embed_query(SENTENCES[0][1])), abs=1e-5)


def test_search_keeps_to_the_filter_and_to_k(table):
    found = table.similarity_search("harbour committee", k=5, filter={"outlet_key": {"$in": ["courier"]}})
    assert [d.id for d in found] == ["c1", "b1"]
    assert [d.id for d in table.as_retriever(search_kwargs={"k": 1}).invoke("wheat prices")] == ["b1"]


def test_deleted_rows_are_not_found_though_their_vector_stays(table):
    table.delete(["a1", "c1"])
    assert [d.id for d in table.similarity_search("harbour committee met", k=1)] == ["a2"]
    assert table.count() == 2 and len(table.matrix()) == 3


def test_a_lost_matrix_is_embedded_again_from_the_table(tmp_path, table):
    table.matrix = lambda: VectorFile(tmp_path / "elsewhere")  # the folder was deleted
    matrix = table.matrix()
    table.matrix = lambda: matrix
    assert table.restore_vectors() == 3 and len(matrix) == 3
    assert table.restore_vectors() == 0


def test_langchain_index_syncs_it_with_a_record_manager(tmp_path):
    matrix = VectorFile(tmp_path / "vectors")
    table = SentenceTable(tmp_path / "sentences.sqlite", lambda: matrix, FAKE)
    records = SQLRecordManager("sentences", db_url=f"sqlite:///{tmp_path / 'records.sqlite'}")
    records.create_schema()
    documents = [Document(page_content=text, metadata=meta) for _, text, meta in SENTENCES]
    sync = {"cleanup": "incremental", "source_id_key": "path", "key_encoder": "sha256"}
    first = index(documents, records, table, **sync)
    again = index(documents[:1], records, table, **sync)
    assert (first["num_added"], again["num_skipped"], again["num_deleted"]) == (4, 1, 1)  # a2 left /news/a.txt
    assert sorted(table.get(include=["documents"])["documents"]) == sorted(
        text for _, text, _ in SENTENCES[:1] + SENTENCES[2:]
    )


def test_an_older_index_has_its_sentences_moved_out_of_chroma(tmp_path):
    """Indexes written before the table kept sentences in a Chroma collection: the next ingest moves them."""
    settings = fake_settings(tmp_path)
    settings.corpus[0].mkdir()
    write(
        settings.corpus[0], "harbour.txt", "Harbour vote\n\nThe harbour committee met on Tuesday. Its chair resigned.\n"
    )
    assistant = Assistant(settings)
    assistant.ingest(progress=False)
    store = assistant.store
    rows = store.sentence_vectors.get(include=["documents", "metadatas", "embeddings"])
    old = store.client.create_collection(store.names[1], metadata={"hnsw:space": "cosine"})
    old.add(ids=rows["ids"], documents=rows["documents"], metadatas=rows["metadatas"], embeddings=rows["embeddings"])
    store.sentence_vectors.delete(rows["ids"])

    calls = FAKE.calls
    again = Assistant(settings)
    report = again.ingest(progress=False)
    assert collection_count(again.store.client, again.store.names[1]) == 0
    assert sorted(again.store.sentence_vectors.get()["ids"]) == sorted(rows["ids"])
    assert report.model_texts == 0 and FAKE.calls == calls  # moved, not embedded again
    keys = [text_key(text) for text in rows["documents"]]
    assert again.store.sentence_matrix.has(keys).all()
    assert len(again.store.sentence_matrix) == len(set(keys))  # vectors it already held are not copied twice
