"""BM25 over sentences as a sparse matrix: rare words decide, common words barely count."""

import numpy as np
import pytest
from langchain_core.documents import Document

from rag.lexical import BM25Index, FreshLexical, fingerprint

ROWS = [
    ("a", "The Taliban's foreign minister Amir Khan Muttaqi spoke in Moscow."),
    ("b", "The minister said the meeting in Moscow went well."),
    ("c", "Fishing boats returned to the harbour by noon."),
]


def test_the_sentence_with_the_rare_words_ranks_first():
    index = BM25Index(ROWS)
    ranked = index.top(["muttaqi", "minister"], k=3)
    assert [id_ for id_, _ in ranked] == ["a", "b"]  # "c" shares no word and is left out
    assert ranked[0][1] > ranked[1][1] > 0


def test_k_limits_the_results_and_unknown_words_find_nothing():
    index = BM25Index(ROWS)
    assert len(index.top(["moscow"], k=1)) == 1
    assert index.top(["kabul"], k=3) == [] and index.top(["moscow"], k=0) == []


def test_an_empty_index_answers_nothing():
    index = BM25Index([])
    assert len(index) == 0 and index.top(["moscow"], k=3) == []


def test_a_saved_index_loads_back_for_the_same_sentences_only(tmp_path):
    path = tmp_path / "bm25.npz"
    BM25Index(ROWS).save(path, fingerprint(id_ for id_, _ in ROWS))

    loaded = BM25Index.load(path, fingerprint(["c", "b", "a"]))  # the same ids, read in another order
    assert loaded is not None and loaded.top(["muttaqi", "minister"], k=3) == BM25Index(ROWS).top(
        ["muttaqi", "minister"], k=3
    )
    assert BM25Index.load(path, fingerprint(["a", "b"])) is None  # other sentences: build again


def test_a_missing_or_damaged_saved_index_is_rebuilt_not_an_error(tmp_path):
    path = tmp_path / "bm25.npz"
    assert BM25Index.load(path, fingerprint(["a"])) is None
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert BM25Index.load(path, fingerprint(["a"])) is None


def test_an_index_that_cannot_be_saved_is_still_usable(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    index = BM25Index(ROWS)
    assert index.save(blocked / "bm25.npz", fingerprint(["a"])) is False
    assert index.top(["muttaqi"], k=1)[0][0] == "a" and list(tmp_path.iterdir()) == [blocked]


def test_rarity_is_one_for_a_word_no_sentence_has_and_lower_the_more_sentences_have_it():
    rarity = BM25Index(ROWS).rarity(["muttaqi", "moscow", "kabul"])
    assert rarity["kabul"] == 1.0  # in no sentence: as rare as a word can be
    assert 0.0 < rarity["moscow"] < rarity["muttaqi"] < 1.0  # in two sentences, in one


def test_a_loaded_index_knows_the_same_rarities(tmp_path):
    path = tmp_path / "bm25.npz"
    BM25Index(ROWS).save(path, fingerprint(id_ for id_, _ in ROWS))
    words = ["muttaqi", "moscow", "harbour", "kabul"]
    assert BM25Index.load(path, fingerprint(["a", "b", "c"])).rarity(words) == BM25Index(ROWS).rarity(words)


MORE = [
    ("d", "Kabul's airport reopened to foreign airlines on Monday."),
    ("e", "The foreign minister flew from Kabul to Moscow for the meeting."),
]
QUERIES = [["muttaqi", "minister"], ["moscow"], ["kabul", "airport"], ["foreign", "meeting", "meeting"], ["harbour"]]


def _same_rankings(one: BM25Index, other: BM25Index) -> None:
    for query in QUERIES:
        first, second = one.top(query, k=5), other.top(query, k=5)
        assert [i for i, _ in first] == [i for i, _ in second], query
        assert [s for _, s in first] == pytest.approx([s for _, s in second]), query
    words = ["muttaqi", "kabul", "harbour", "nowhere"]
    assert one.rarity(words) == pytest.approx(other.rarity(words))


def test_adding_and_removing_sentences_scores_as_a_rebuild_would():
    """Every weight moves when sentences come and go (size, term frequencies, average length)."""
    updated = BM25Index(ROWS).changed(MORE, removed={"c"})
    assert sorted(updated.ids) == ["a", "b", "d", "e"]
    _same_rankings(updated, BM25Index([r for r in ROWS if r[0] != "c"] + MORE))
    _same_rankings(updated.changed([], removed={"d", "e"}), BM25Index(ROWS[:2]))


def test_an_updated_index_saves_and_loads_like_a_built_one(tmp_path):
    path = tmp_path / "bm25.npz"
    updated = BM25Index(ROWS).changed(MORE, removed={"a"})
    updated.save(path, fingerprint(updated.ids))
    _same_rankings(BM25Index.load(path, fingerprint(["b", "c", "d", "e"])), updated)


class _Sentences:
    """A stand-in for the store: sentences by id, counting what FreshLexical reads."""

    def __init__(self, rows):
        self.rows, self.generation, self.full_reads, self.fetched = dict(rows), 0, 0, 0

    def all_rows(self):
        self.full_reads += 1
        return list(self.rows.items())

    def fetch(self, ids):
        self.fetched += len(ids)
        return [Document(page_content=self.rows[i], id=i) for i in ids if i in self.rows]

    def lexical(self, path):
        return FreshLexical(
            path,
            generation=lambda: self.generation,
            ids=lambda: list(self.rows),
            rows=self.all_rows,
            fetch=self.fetch,
            k=5,
        )


def test_after_a_write_only_the_new_sentences_are_read(tmp_path):
    sentences = _Sentences(ROWS)
    lexical = sentences.lexical(tmp_path / "bm25.npz")
    lexical.current()
    sentences.rows.update(MORE)  # an ingest adds two sentences and removes one
    del sentences.rows["c"]
    sentences.generation += 1

    updated = lexical.current().index
    assert sentences.full_reads == 1 and sentences.fetched == 2
    _same_rankings(updated, BM25Index(list(sentences.rows.items())))

    restarted = _Sentences(sentences.rows)  # a new process finds the saved index for these sentences
    restarted.lexical(tmp_path / "bm25.npz").current()
    assert restarted.full_reads == 0 and restarted.fetched == 0


def test_a_new_process_updates_the_index_an_older_one_saved(tmp_path):
    path = tmp_path / "bm25.npz"
    _Sentences(ROWS).lexical(path).current()
    later = _Sentences(ROWS + MORE)
    _same_rankings(later.lexical(path).current().index, BM25Index(ROWS + MORE))
    assert later.full_reads == 0 and later.fetched == 2


def test_an_index_saved_before_counts_were_kept_is_built_again(tmp_path):
    path = tmp_path / "bm25.npz"
    np.savez(path, data=np.ones(1), fingerprint=np.frombuffer(b"x", np.uint8))  # no format: an older release's file
    assert BM25Index.load(path, None) is None and BM25Index.load(path, "x") is None
