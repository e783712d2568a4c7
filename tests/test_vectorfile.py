"""The sentence matrix: vectors found by their text's hash, segments published whole, merged when many."""

from __future__ import annotations

import numpy as np

from rag.vectorfile import MAX_SEGMENTS, VectorFile, text_key

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
