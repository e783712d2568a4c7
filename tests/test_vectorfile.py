"""The sentence matrix: vectors found by their text's hash, segments published whole, merged when many."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from rag.vectorfile import MAX_SEGMENTS, VectorFile, one_blas_thread, text_key

RNG = np.random.default_rng(0)


def rows(texts: list[str]) -> tuple[list[int], np.ndarray]:
    return [text_key(t) for t in texts], RNG.normal(size=(len(texts), 384)).astype(np.float32)


def test_vectors_are_found_by_text_across_segments_and_unknown_texts_are_absent(tmp_path):
    matrix = VectorFile(tmp_path / "vectors")
    first_keys, first = rows(["alpha", "beta"])
    second_keys, second = rows(["gamma"])
    for keys, vectors in ((first_keys, first), (second_keys, second)):
        with matrix.writer() as writer:
            writer.add(keys, vectors)
    reopened = VectorFile(tmp_path / "vectors")  # what a new process sees
    found = reopened.get([text_key("beta"), text_key("gamma"), text_key("never stored")])
    assert set(found) == {text_key("beta"), text_key("gamma")}
    assert np.array_equal(found[text_key("beta")], first[1]) and np.array_equal(found[text_key("gamma")], second[0])


def test_a_segment_is_invisible_until_committed_and_gone_when_discarded(tmp_path):
    matrix = VectorFile(tmp_path / "vectors")
    writer = matrix.writer()
    keys, vectors = rows(["alpha"])
    writer.add(keys, vectors)
    assert np.array_equal(writer.get(keys)[keys[0]], vectors[0])  # the ingest reads its own rows back
    assert VectorFile(tmp_path / "vectors").get(keys) == {}  # an unfinished ingest: readers see nothing
    writer.discard()
    assert list((tmp_path / "vectors").iterdir()) == []


def test_many_segments_are_merged_into_one_with_every_vector_kept(tmp_path):
    matrix = VectorFile(tmp_path / "vectors")
    written = {}
    for n in range(MAX_SEGMENTS + 1):
        keys, vectors = rows([f"sentence {n}", "repeated in every segment"])
        with matrix.writer() as writer:
            writer.add(keys, vectors)
        written.update(zip(keys, vectors, strict=True))
    matrix.tidy()
    assert len(matrix.segments()) == 1 and len(matrix) == MAX_SEGMENTS + 2
    found = VectorFile(tmp_path / "vectors").get(written)
    assert set(found) == set(written)
    assert all(np.array_equal(found[k], written[k]) for k in written if k != text_key("repeated in every segment"))


def test_a_search_scores_every_stored_row(tmp_path):
    matrix = VectorFile(tmp_path / "vectors")
    for texts in (["alpha", "beta"], ["gamma"]):
        keys, vectors = rows(texts)
        with matrix.writer() as writer:
            writer.add(keys, vectors)
    matrix.load()
    stored = matrix.get(text_key(t) for t in ("alpha", "beta", "gamma"))
    query = RNG.normal(size=384).astype(np.float32)
    keys, scores = matrix.similarities(query)
    assert sorted(keys.tolist()) == sorted(stored)
    assert all(np.isclose(score, stored[int(key)] @ query, rtol=1e-5) for key, score in zip(keys, scores, strict=True))
    assert matrix.has([text_key("beta"), text_key("never stored")]).tolist() == [True, False]


def test_the_search_product_runs_on_one_blas_thread():
    """OpenBLAS threads spin after a product and slow the rest of a question down (30 ms at 10 000 articles)."""

    def numpy_blas_threads() -> list[int]:  # numpy's own OpenBLAS, the one its matrix products use
        return [info["num_threads"] for info in threadpool_info() if "numpy" in info["filepath"]]

    before = numpy_blas_threads()
    with one_blas_thread():
        inside = numpy_blas_threads()
    assert before and inside == [1] * len(before)
    assert numpy_blas_threads() == before
