"""Ingesting keeps the index in line with the files: no-op re-runs, replacements, removals."""

import re
import shutil

import numpy as np
import pytest
from langchain_core.documents import Document

from rag import Assistant
from rag.chunking import encoding, sentences_of
from rag.settings import Settings
from tests.conftest import write

pytestmark = pytest.mark.slow  # the real model

ARTICLE = (
    "Harbour Reopens After Storm\n\n"
    "The city harbour reopened on Monday after a week of repairs. "
    "Officials said the storm damaged three piers.\n"
    "Fishing boats returned to the water by noon.\n"
)


def sources(assistant):
    return {d for d in (m["source"] for m in assistant.store.vectors.get(include=["metadatas"])["metadatas"])}


def test_reingesting_unchanged_files_is_a_no_op(assistant, corpus):
    write(corpus, "harbour.txt", ARTICLE)
    first = assistant.ingest(progress=False)
    again = assistant.ingest(progress=False)
    assert first.embedded == first.chunks > 0
    assert again.embedded == 0 and again.skipped == first.chunks and again.removed == 0
    assert assistant.store.count() == first.chunks


def test_a_changed_file_replaces_its_old_chunks(assistant, corpus):
    path = write(corpus, "harbour.txt", ARTICLE)
    assistant.ingest(progress=False)
    path.write_text(ARTICLE.replace("three piers", "five piers"), encoding="utf-8")
    report = assistant.ingest(progress=False)
    assert report.embedded >= 1 and report.removed >= 1
    texts = assistant.store.vectors.get(include=["documents"])["documents"]
    assert any("five piers" in t for t in texts) and not any("three piers" in t for t in texts)


def test_a_file_removed_from_the_corpus_leaves_the_index(assistant, corpus):
    write(corpus, "harbour.txt", ARTICLE)
    gone = write(corpus, "gone.txt", "Short Story\n\nA short article that will be deleted soon.\n")
    assistant.ingest(progress=False)
    assert sources(assistant) == {"harbour.txt", "gone.txt"}
    gone.unlink()
    report = assistant.ingest(progress=False)
    assert report.removed >= 1
    assert sources(assistant) == {"harbour.txt"}


def test_bad_files_are_reported_and_the_rest_is_ingested(assistant, corpus):
    write(corpus, "harbour.txt", ARTICLE)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (corpus / "latin1.txt").write_bytes("Caf\xe9".encode("latin-1"))
    report = assistant.ingest([corpus, corpus / "missing.txt"], progress=False)
    assert report.files == 1 and sources(assistant) == {"harbour.txt"}
    joined = "\n".join(report.errors)
    for name in ("empty.txt", "binary.txt", "latin1.txt", "missing.txt"):
        assert name in joined


def test_a_file_that_turns_unreadable_keeps_its_indexed_chunks(assistant, corpus):
    path = write(corpus, "harbour.txt", ARTICLE)
    assistant.ingest(progress=False)
    before = assistant.store.count()
    path.write_bytes(b"\xff\xfe broken now")
    report = assistant.ingest(progress=False)
    assert any("harbour.txt" in e for e in report.errors)
    assert assistant.store.count() == before  # no data lost because of a bad file


def test_index_persists_across_processes(tmp_path, corpus):
    from rag import Assistant

    write(corpus, "harbour.txt", ARTICLE)
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus])
    Assistant(settings).ingest(progress=False)
    reopened = Assistant(settings)
    assert reopened.stats()["articles"] == 1
    assert reopened.ask("When did the harbour reopen?").citations[0].source == "harbour.txt"


def test_summary_line_counts_everything(assistant, corpus):
    write(corpus, "harbour.txt", ARTICLE)
    summary = assistant.ingest(progress=False).summary()
    pattern = r"1 files, (\d+) chunks \((\d+) sentences\): (\d+) embedded, 0 unchanged, 0 removed in [\d.]+s"
    counts = re.fullmatch(pattern, summary)
    assert counts, summary
    chunks, sentences, embedded = map(int, counts.groups())
    assert chunks == embedded == 1 and sentences >= 3  # a new short file: one chunk, embedded


def test_files_stream_through_in_batches_and_reingesting_them_embeds_nothing(assistant, corpus, monkeypatch):
    monkeypatch.setattr("rag.ingest.BATCH_CHUNKS", 1)  # every file its own index() call
    for n in range(4):
        write(corpus, f"harbour{n}.txt", ARTICLE.replace("three piers", f"{n + 3} piers"))
    first = assistant.ingest(progress=False)
    assert first.files == 4 and first.embedded == first.chunks and first.sentences_embedded == first.sentences
    again = assistant.ingest(progress=False)
    assert again.embedded == 0 and again.sentences_embedded == 0 and again.removed == 0


def test_a_lost_record_file_is_rebuilt_from_the_index_instead_of_embedding_again(tmp_path, corpus):
    from rag import Assistant

    write(corpus, "harbour.txt", ARTICLE)
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus])
    Assistant(settings).ingest(progress=False)
    settings.record_db.unlink()
    report = Assistant(settings).ingest(progress=False)
    assert report.embedded == 0 and report.sentences_embedded == 0 and report.skipped == report.chunks > 0


def test_by_default_the_model_embeds_each_chunk_whole_and_each_sentence_text_once(assistant, corpus):
    write(corpus, "harbour.txt", ARTICLE)
    write(corpus, "copy.txt", ARTICLE.replace("Harbour Reopens", "Port Reopens"))  # same sentences, another title
    report = assistant.ingest(progress=False)
    store = assistant.store
    sentences = store.sentence_vectors.get(include=["documents"])["documents"]
    chunks = store.vectors.get(include=["documents", "embeddings"])
    assert report.model_texts == len(set(sentences)) + len(set(chunks["documents"]))
    assert np.allclose(chunks["embeddings"], store.embeddings.embed_documents(chunks["documents"]), atol=1e-5)


def test_chunk_vectors_can_be_the_mean_of_their_sentences_weighted_by_length(tmp_path, corpus):
    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus=[corpus], chunk_vectors="mean"))
    write(corpus, "harbour.txt", ARTICLE)
    write(corpus, "copy.txt", ARTICLE.replace("Harbour Reopens", "Port Reopens"))  # same sentences, another title
    report = assistant.ingest(progress=False)
    store = assistant.store
    sentences = store.sentence_vectors.get(include=["documents", "embeddings"])
    assert report.model_texts == len(set(sentences["documents"])) < report.sentences  # each text once
    model = np.array(store.embeddings.embed_documents(sentences["documents"]))
    assert np.allclose(sentences["embeddings"], model, atol=1e-5)
    by_text = dict(zip(sentences["documents"], sentences["embeddings"], strict=True))
    tokens = encoding(assistant.settings.tokenizer).encode
    chunks = store.vectors.get(include=["documents", "metadatas", "embeddings"])
    for text, meta, vector in zip(chunks["documents"], chunks["metadatas"], chunks["embeddings"], strict=True):
        parts = [t for t, _, _ in sentences_of(Document(page_content=text, metadata=meta))]
        weights = [len(tokens(t)) ** 0.5 for t in parts]  # a long sentence weighs more, as in the model's pooling
        mean = np.average([by_text[t] for t in parts], axis=0, weights=weights)
        assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)
        plain = np.mean([by_text[t] for t in parts], axis=0)
        assert len(set(weights)) == 1 or not np.allclose(vector, plain / np.linalg.norm(plain), atol=1e-5)


def test_editing_one_sentence_embeds_only_that_sentence(assistant, corpus):
    path = write(corpus, "harbour.txt", ARTICLE)
    assistant.ingest(progress=False)
    path.write_text(ARTICLE.replace("three piers", "five piers"), encoding="utf-8")
    report = assistant.ingest(progress=False)
    assert report.embedded >= 1 and report.model_texts == 1 + report.embedded  # the new sentence, and its chunks


def test_question_time_vectors_come_from_the_matrix_and_a_lost_matrix_is_embedded_again(tmp_path, corpus):
    write(corpus, "harbour.txt", ARTICLE)
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus])
    Assistant(settings).ingest(progress=False)
    fresh = Assistant(settings)  # a new process: vectors read by text from the memory-mapped matrix
    chunks = fresh.store.vectors.get(include=["documents", "metadatas"])
    documents = [
        Document(page_content=t, metadata=m) for t, m in zip(chunks["documents"], chunks["metadatas"], strict=True)
    ]
    from_matrix = fresh.store.sentence_vectors_of(documents)
    from_chroma = fresh.store.chroma_sentence_vectors([str((corpus / "harbour.txt").resolve())])
    assert from_matrix.keys() == from_chroma.keys() and len(from_matrix) == 4  # the title is one
    assert all(np.allclose(from_matrix[t], from_chroma[t]) for t in from_matrix)

    shutil.rmtree(settings.data_dir / "vectors-articles")  # lost: the next ingest embeds the sentences again
    Assistant(settings).ingest(progress=False)
    again = Assistant(settings).store.sentence_vectors_of(documents)
    assert again.keys() == from_matrix.keys() and all(np.allclose(again[t], from_matrix[t]) for t in again)
