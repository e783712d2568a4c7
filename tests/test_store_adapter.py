"""The store adapter's own contracts: the few places it leans on what a library does not promise."""

from __future__ import annotations

import subprocess
import sys

from rag.store.client import forget_clients, open_local
from rag.store.collection import field_where
from rag.store.records import open_records, rebuild

OTHER_PROCESS_ADDS = """
import sys
from rag.store.client import open_local
open_local(sys.argv[1]).get_collection("shared", embedding_function=None).add(
    ids=["north"], embeddings=[[0.0, 1.0, 0.0]], documents=["north"]
)
"""


def _nearest(path, vector) -> list[str]:
    collection = open_local(path).get_collection("shared", embedding_function=None)
    return collection.query(query_embeddings=[vector], n_results=1)["ids"][0]


def test_a_process_sees_another_process_s_writes_only_after_forgetting_its_clients(tmp_path):
    collection = open_local(tmp_path).create_collection("shared", embedding_function=None)
    collection.add(ids=["east"], embeddings=[[1.0, 0.0, 0.0]], documents=["east"])
    assert _nearest(tmp_path, [0.0, 1.0, 0.0]) == ["east"]  # the vector index is now in this process's memory

    subprocess.run([sys.executable, "-c", OTHER_PROCESS_ADDS, str(tmp_path)], check=True)

    # Chroma hands a new client the cached in-memory index: the other process's vector is missing.
    # This is why the store reopens through forget_clients() when the generation marker changes.
    assert _nearest(tmp_path, [0.0, 1.0, 0.0]) == ["east"]
    forget_clients()
    assert _nearest(tmp_path, [0.0, 1.0, 0.0]) == ["north"]


def test_record_count_counts_one_record_manager_s_keys(tmp_path):
    db = tmp_path / "records.sqlite"
    chunks, sentences = open_records("news", db), open_records("news-sentences", db)
    rebuild(chunks, [(f"c{i}", "a.txt") for i in range(7)])
    sentences.update(["s1", "s2"], group_ids=["a.txt", "a.txt"])

    assert chunks.count() == len(chunks.list_keys()) == 7
    assert sentences.count() == len(sentences.list_keys()) == 2

    rebuild(chunks, [("c1", "b.txt")])
    assert chunks.list_keys(group_ids=["b.txt"]) == ["c1"] and chunks.count() == 1


def test_typed_lookups_become_chroma_where_clauses():
    assert field_where(source="a.txt") == {"source": "a.txt"}
    assert field_where(source="a.txt", chunk=0) == {"$and": [{"source": "a.txt"}, {"chunk": 0}]}
    assert field_where(path=(p for p in ["/x/a.txt", "/x/b.txt"])) == {"path": {"$in": ["/x/a.txt", "/x/b.txt"]}}


def test_chunks_per_path_counts_from_the_records_and_from_chroma_alike(tmp_path):
    from collections import Counter

    from rag import Assistant
    from tests.conftest import fake_settings, write

    (tmp_path / "articles").mkdir()
    for name, lines in (("a.txt", 1), ("b.txt", 30)):
        body = "\n".join(f"Line {i} of {name} says the harbour {i} reopened." for i in range(lines))
        write(tmp_path / "articles", name, f"Title {name}\n\n{body}")
    assistant = Assistant(fake_settings(tmp_path))
    assistant.ingest(progress=False)
    store = assistant.store
    from_chroma = Counter(meta["path"] for meta in store.chunk_metadata())

    assert store.chunks_per_path() == from_chroma and len(from_chroma) == 2 and from_chroma.total() > 2
    store.records.delete_keys(store.records.list_keys())  # records lost: the collection still counts
    assert store.chunks_per_path() == from_chroma
