"""An ingest killed part-way (SIGKILL) leaves an index the next run makes whole again.

After the second run the index holds exactly the chunks and sentences a clean ingest of the files
produces: no duplicates, no orphans (entries of vanished or changed text), no half-indexed file,
and Chroma and the ingest records agree.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.chunking import chunk_article, sentence_documents
from rag.ingest import document_key
from rag.loading import find_files, load_article
from tests.conftest import SEEDS
from tests.servers import RAG

pytestmark = pytest.mark.slow  # the real model and killed `rag` processes

COPIES = 8  # 40 articles: a few seconds of embedding, a second or so of writing
KILL_WAIT = 300  # seconds to wait for the killed run to reach its writes


def make_corpus(folder: Path, edition: str) -> None:
    """``COPIES`` distinct copies of each seed article; ``edition`` changes one sentence in every file."""
    folder.mkdir(exist_ok=True)
    for copy in range(COPIES):
        for seed in sorted(SEEDS.glob("*.txt")):
            text = seed.read_text(encoding="utf-8")
            title, rest = text.split("\n", 1)
            body = f"{title} (copy {copy})\nThis is the {edition} edition of copy {copy}.\n{rest}"
            (folder / f"{copy}-{seed.name}").write_text(body, encoding="utf-8")


def expected_ids(settings: Settings, corpus: Path) -> tuple[set[str], set[str]]:
    """The chunk and sentence ids a clean ingest of ``corpus`` produces (no embedding needed)."""
    files, _ = find_files([corpus])
    chunks, sentences = set(), set()
    for path in files:
        documents = chunk_article(
            load_article(path, settings.max_file_bytes),
            tokenizer=settings.tokenizer,
            chunk_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
        )
        chunks |= {document_key(d) for d in documents}
        sentences |= {document_key(d) for d in sentence_documents(documents)}
    return chunks, sentences


def index_state(assistant: Assistant) -> list[tuple[list[str], set[str]]]:
    """For each layer: the ids in Chroma (a list, so duplicates would show) and the recorded keys."""
    store = assistant.store
    with store.reading():
        return [(vectors.get(include=[])["ids"], set(records.list_keys())) for vectors, records in store.layers()]


def kill_during_writes(assistant: Assistant, corpus: Path) -> str:
    """Start `rag ingest`, SIGKILL it as soon as its first write shows in Chroma; say how far it got.

    The poll reads Chroma without the store's lock on purpose: it watches the writer at work.
    """
    vectors = assistant.store.vectors
    before = set(vectors.get(include=[])["ids"])
    process = subprocess.Popen(
        [RAG, "ingest", "--data-dir", str(assistant.settings.data_dir), str(corpus)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    deadline = time.monotonic() + KILL_WAIT
    while process.poll() is None and time.monotonic() < deadline:
        if set(vectors.get(include=[])["ids"]) != before:
            break
        time.sleep(0.005)
    if process.poll() is not None:
        return f"finished before the kill (exit {process.returncode}): {process.stdout.read().decode()}"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return "killed during the write phase"


def test_a_killed_ingest_is_completed_by_the_next_run(tmp_path):
    corpus = tmp_path / "articles"
    make_corpus(corpus, "first")
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus])
    assistant = Assistant(settings)
    assert assistant.ingest(progress=False).files == 5 * COPIES

    make_corpus(corpus, "second")  # every file changed: each needs its old chunks replaced
    (corpus / f"0-{sorted(SEEDS.glob('*.txt'))[0].name}").unlink()  # and one file goes away
    outcome = kill_during_writes(assistant, corpus)
    want_chunks, want_sentences = expected_ids(settings, corpus)
    (chunk_ids, chunk_keys), (sentence_ids, sentence_keys) = index_state(assistant)
    print(
        f"\ninterrupted ingest: {outcome}; left {len(chunk_ids)} chunks ({len(chunk_keys)} recorded), "
        f"{len(sentence_ids)} sentences ({len(sentence_keys)} recorded); a clean ingest has "
        f"{len(want_chunks)} and {len(want_sentences)}"
    )
    assert outcome.startswith("killed") and (set(chunk_ids), set(sentence_ids)) != (want_chunks, want_sentences)

    report = assistant.ingest(progress=False)  # the same process: it must notice the other's writes
    assert report.errors == [] and report.files == 5 * COPIES - 1

    (chunk_ids, chunk_keys), (sentence_ids, sentence_keys) = index_state(assistant)
    assert len(chunk_ids) == len(set(chunk_ids)) and len(sentence_ids) == len(set(sentence_ids))  # no duplicates
    assert set(chunk_ids) == chunk_keys == want_chunks  # no orphans, every file complete
    assert set(sentence_ids) == sentence_keys == want_sentences
    texts = assistant.store.vectors.get(include=["documents"])["documents"]
    assert not any("first edition" in t for t in texts)

    again = assistant.ingest(progress=False)
    assert again.embedded == 0 and again.removed == 0  # nothing left to do
    answer = assistant.ask("Who is Pakistan's envoy to the UN?")
    assert "Munir Akram" in answer.answer
