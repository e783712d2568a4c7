"""Sentence splits are kept beside the index: re-ingesting an unchanged file does not split it again."""

import pytest

import rag.loading
import rag.splitcache
from rag import Assistant
from rag.splitcache import SplitCache
from tests.conftest import fake_settings, write

ARTICLE = (
    "Harbour Reopens After Storm\n\n"
    "The city harbour reopened on Monday after a week of repairs. Dr. Lena Ruiz said the storm damaged three piers.\n"
    "Fishing boats returned to the water by noon.\n"
)


@pytest.fixture
def splits_counted(monkeypatch) -> list[str]:
    """The lines the sentence splitter was asked to split, in order."""
    asked: list[str] = []
    split = rag.loading.split_sentences

    def counting(text: str, offset: int = 0):
        asked.append(text)
        return split(text, offset)

    monkeypatch.setattr(rag.loading, "split_sentences", counting)
    return asked


def chunks(assistant: Assistant) -> list[tuple[str, str]]:
    got = assistant.store.vectors.get(include=["documents", "metadatas"])
    return sorted((text, meta["spans"]) for text, meta in zip(got["documents"], got["metadatas"], strict=True))


def test_an_unchanged_file_is_not_split_again_and_indexes_the_same(tmp_path, splits_counted):
    (tmp_path / "articles").mkdir()
    write(tmp_path / "articles", "harbour.txt", ARTICLE)
    assistant = Assistant(fake_settings(tmp_path))
    assistant.ingest(progress=False)
    first = chunks(assistant)
    assert splits_counted, "the first ingest splits the file"

    splits_counted.clear()
    again = Assistant(fake_settings(tmp_path)).ingest(progress=False)  # a new process: the splits are on disk
    assert splits_counted == [] and again.embedded == 0 and again.skipped == again.chunks > 0
    assert chunks(assistant) == first


def test_an_edited_file_is_split_afresh(tmp_path, splits_counted):
    (tmp_path / "articles").mkdir()
    path = write(tmp_path / "articles", "harbour.txt", ARTICLE)
    assistant = Assistant(fake_settings(tmp_path))
    assistant.ingest(progress=False)
    path.write_text(ARTICLE.replace("by noon", "by nine"), encoding="utf-8")
    splits_counted.clear()
    report = assistant.ingest(progress=False)
    assert splits_counted and report.embedded > 0
    assert any("by nine" in text for text, _ in chunks(assistant))


def test_a_damaged_cache_file_only_costs_a_split(tmp_path):
    (tmp_path / "articles").mkdir()
    write(tmp_path / "articles", "harbour.txt", ARTICLE)
    settings = fake_settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    settings.split_cache.write_bytes(b"this is not an SQLite database" * 100)
    report = Assistant(settings).ingest(progress=False)
    assert report.errors == [] and report.chunks > 0


def test_spans_are_stored_per_text_start_and_splitter(tmp_path, monkeypatch):
    spans = [[(0, 10), (11, 20)], [(22, 30)]]
    with SplitCache(tmp_path / "splits.sqlite") as cache:
        cache.put("some text", 0, spans)
    with SplitCache(tmp_path / "splits.sqlite") as cache:
        assert cache.get("some text", 0) == spans
        assert cache.get("some text", 5) is None  # the body starts elsewhere: other spans
        assert cache.get("other text", 0) is None
    monkeypatch.setattr(rag.splitcache, "splitter_fingerprint", lambda: "a newer splitter")
    with SplitCache(tmp_path / "splits.sqlite") as cache:
        assert cache.get("some text", 0) is None
