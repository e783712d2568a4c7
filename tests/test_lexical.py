"""BM25 over sentences as a sparse matrix: rare words decide, common words barely count."""

from rag.lexical import BM25Index, fingerprint

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
