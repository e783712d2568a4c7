"""BM25 over sentences as a sparse matrix: rare words decide, common words barely count."""

from rag.lexical import BM25Index

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
