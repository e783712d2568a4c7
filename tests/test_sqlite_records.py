"""Our sqlite3 record manager against LangChain's SQLRecordManager: same calls, same answers, one file."""

import pytest
from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.indexing import InMemoryRecordManager, index
from langchain_core.vectorstores import InMemoryVectorStore

from rag.store.sqlite_records import SQLiteRecordManager
from tests.conftest import HashedEmbeddings


@pytest.fixture
def managers(tmp_path):
    """Ours and LangChain's on the same file and namespace, so each reads what the other wrote."""
    db = tmp_path / "records.sqlite"
    ours = SQLiteRecordManager("chroma/news", db)
    ours.create_schema()
    theirs = SQLRecordManager("chroma/news", db_url=f"sqlite:///{db}")
    theirs.create_schema()  # on the table ours made: nothing to add
    return ours, theirs


def test_each_reads_what_the_other_wrote(managers):
    ours, theirs = managers
    ours.update(["a1", "a2"], group_ids=["a.txt", "a.txt"])
    theirs.update(["b1"], group_ids=["b.txt"])

    for manager in (ours, theirs):
        assert sorted(manager.list_keys()) == ["a1", "a2", "b1"]
        assert manager.exists(["b1", "zz", "a2"]) == [True, False, True]
        assert manager.list_keys(group_ids=["b.txt"]) == ["b1"]


def test_an_update_moves_a_key_to_its_new_group_and_time(managers):
    ours, theirs = managers
    ours.update(["k"], group_ids=["old.txt"])
    first = theirs.list_keys(after=0)
    later = ours.get_time()
    ours.update(["k"], group_ids=["new.txt"])

    assert first == ["k"] and ours.count() == 1
    assert theirs.list_keys(group_ids=["new.txt"]) == ["k"] and theirs.list_keys(group_ids=["old.txt"]) == []
    assert ours.list_keys(before=later) == [] and ours.list_keys(after=later - 1) == ["k"]


def test_namespaces_share_the_file_but_not_the_keys(tmp_path):
    db = tmp_path / "records.sqlite"
    chunks, sentences = SQLiteRecordManager("chroma/news", db), SQLiteRecordManager("chroma/news-sentences", db)
    chunks.create_schema()
    chunks.update(["same"], group_ids=["a.txt"])
    sentences.update(["same"], group_ids=["b.txt"])
    chunks.delete_keys(["same"])

    assert chunks.count() == 0 and sentences.list_keys(group_ids=["b.txt"]) == ["same"]


def test_more_keys_than_one_sql_statement_binds(managers):
    ours, theirs = managers
    keys = [f"k{i}" for i in range(2_345)]
    ours.update(keys, group_ids=[f"{i % 7}.txt" for i in range(2_345)])

    assert ours.count() == 2_345 and all(ours.exists(keys))
    assert len(ours.list_keys(group_ids=[f"{g}.txt" for g in range(7)], limit=1_000)) == 1_000
    ours.delete_keys(keys[:2_000])
    assert sorted(theirs.list_keys()) == sorted(keys[2_000:])


def test_a_clock_behind_the_index_start_is_refused(managers):
    ours, _ = managers
    with pytest.raises(AssertionError, match="Time sync"):
        ours.update(["k"], time_at_least=ours.get_time() + 3_600)
    assert ours.count() == 0


def test_mismatched_groups_are_refused(managers):
    with pytest.raises(ValueError, match="does not match"):
        managers[0].update(["a", "b"], group_ids=["a.txt"])


def test_langchain_index_skips_unchanged_and_cleans_up_as_with_its_own_managers(tmp_path):
    """Same counts from index() as LangChain's in-memory manager, through add, re-run, change."""
    docs = [Document(page_content=t, metadata={"path": p}) for t, p in [("one", "a"), ("two", "a"), ("three", "b")]]
    changed = [docs[0], Document(page_content="deux", metadata={"path": "a"})]
    runs = []
    for manager in (SQLiteRecordManager("n", tmp_path / "r.sqlite"), InMemoryRecordManager("n")):
        manager.create_schema()
        store = InMemoryVectorStore(HashedEmbeddings())
        runs.append(
            [
                index(batch, manager, store, cleanup="incremental", source_id_key="path", key_encoder="sha256")
                for batch in (docs, docs, changed)
            ]
        )
    ours, reference = runs
    assert ours == reference
    assert ours[1]["num_skipped"] == 3 and ours[2] == {
        "num_added": 1,
        "num_updated": 0,
        "num_skipped": 1,
        "num_deleted": 1,
    }
