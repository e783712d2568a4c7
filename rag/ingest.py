"""ingest → store: read article files, chunk them and sync them into the index.

Syncing uses LangChain's indexing API (``langchain_core.indexing.index``) with a SQL record
manager: unchanged chunks are skipped, a changed file's old chunks are replaced, and files that
disappeared from an ingested folder are removed. Every file is read and chunked before anything is
written, so a bad file costs only itself.
"""

from __future__ import annotations

import sys
import time
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


@dataclass
class IngestReport:
    files: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    skipped: int = 0
    removed: int = 0
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
    documents: list[Document] = []
    for path in files:
        try:
            article = load_article(path, settings.max_file_bytes)
        except InvalidInput as problem:
            report.errors.append(str(problem))
            continue
        documents += chunk_article(
            article,
            tokenizer=settings.tokenizer,
            chunk_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
        )
        report.files += 1
    report.chunks = len(documents)

    sentences = sentence_documents(documents)
    report.sentences = len(sentences)

    show = sys.stderr.isatty() if progress is None else progress
    results = []
    for (vectors, records), layer in zip(store.layers(), (documents, sentences), strict=True):
        bar = tqdm(layer, desc=f"indexing {vectors._collection.name}", disable=not show or not layer, file=sys.stderr)
        results.append(
            index(
                bar,
                records,
                vectors,
                cleanup="incremental",
                source_id_key="path",
                key_encoder="sha256",
                batch_size=max(settings.embed_batch_size, 64),
            )
        )
        bar.close()
    chunks = results[0]
    report.embedded = chunks["num_added"] + chunks["num_updated"]
    report.skipped = chunks["num_skipped"]
    report.removed = chunks["num_deleted"] + store.delete_paths(_vanished(paths, store))
    report.seconds = time.perf_counter() - began
    return report


def _vanished(paths: list[Path], store: Store) -> list[str]:
    """Indexed files inside the given folders that no longer exist on disk."""
    folders = [p.resolve() for p in paths if p.is_dir()]
    return [
        indexed
        for indexed in store.chunks_per_path()
        if not Path(indexed).exists() and any(Path(indexed).is_relative_to(f) for f in folders)
    ]
