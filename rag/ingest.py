"""ingest → store: read article files, chunk them and sync them into the index, a batch of files at a time.

Syncing uses LangChain's indexing API (``langchain_core.indexing.index``) with a SQL record
manager: unchanged chunks are skipped, a changed file's old chunks are replaced, and files that
disappeared from an ingested folder are removed. Files stream through in batches of whole files
(about ``BATCH_CHUNKS`` chunks), so memory stays flat whatever the corpus size, and each batch is
one ``index()`` call with one internal batch: a file split over two batches would have its
unchanged chunks deleted by the first batch's cleanup and embedded again by the second. A file that
cannot be read is reported and skipped, and its chunks already in the index stay.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.indexing import index
from tqdm import tqdm

from rag.chunking import chunk_article, sentence_documents
from rag.errors import InvalidInput
from rag.loading import find_files, load_article
from rag.settings import Settings
from rag.store import Store

BATCH_CHUNKS = 256  # chunks per index() call (with ~5x as many sentences): big enough to embed efficiently


@dataclass
class IngestReport:
    files: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    skipped: int = 0
    removed: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = (
            f"{self.files} files, {self.chunks} chunks ({self.sentences} sentences): {self.embedded} embedded, "
            f"{self.skipped} unchanged, {self.removed} removed in {self.seconds:.1f}s"
        )
        return line + (f"; {len(self.errors)} problem(s)" if self.errors else "")


def ingest(paths: list[Path], settings: Settings, store: Store, progress: bool | None = None) -> IngestReport:
    """Bring the index in line with the article files under ``paths``."""
    began = time.perf_counter()
    report = IngestReport()
    files, report.errors = find_files(paths)
    store.reconcile_records()
    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(total=len(files), desc="indexing", unit="file", disable=not show or not files, file=sys.stderr) as bar:
        for chunks, done in _batches(files, settings, report):
            sentences = sentence_documents(chunks)
            report.chunks += len(chunks)
            report.sentences += len(sentences)
            for (vectors, records), layer in zip(store.layers(), (chunks, sentences), strict=True):
                result = index(
                    layer,
                    records,
                    vectors,
                    cleanup="incremental",
                    source_id_key="path",
                    key_encoder="sha256",
                    batch_size=max(len(layer), 1),  # one internal batch: see the module docstring
                )
                embedded = result["num_added"] + result["num_updated"]
                if layer is chunks:
                    report.embedded += embedded
                    report.skipped += result["num_skipped"]
                    report.removed += result["num_deleted"]
                else:
                    report.sentences_embedded += embedded
            bar.update(done)
    report.removed += store.delete_paths(_vanished(paths, store))
    report.seconds = time.perf_counter() - began
    return report


def _batches(files: list[Path], settings: Settings, report: IngestReport) -> Iterator[tuple[list[Document], int]]:
    """``(chunks of whole files, files looked at)``, about ``BATCH_CHUNKS`` chunks at a time."""
    batch: list[Document] = []
    looked = 0
    for path in files:
        looked += 1
        try:
            article = load_article(path, settings.max_file_bytes)
        except InvalidInput as problem:
            report.errors.append(str(problem))
            continue
        batch += chunk_article(
            article,
            tokenizer=settings.tokenizer,
            chunk_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
        )
        report.files += 1
        if len(batch) >= BATCH_CHUNKS:
            yield batch, looked
            batch, looked = [], 0
    if batch or looked:
        yield batch, looked


def _vanished(paths: list[Path], store: Store) -> list[str]:
    """Indexed files inside the given folders that no longer exist on disk."""
    folders = [p.resolve() for p in paths if p.is_dir()]
    return [
        indexed
        for indexed in store.chunks_per_path()
        if not Path(indexed).exists() and any(Path(indexed).is_relative_to(f) for f in folders)
    ]
