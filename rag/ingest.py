"""ingest → store: read article files, chunk them and sync them into the index.

Syncing uses LangChain's indexing API (``langchain_core.indexing.index``) with a SQL record
manager: unchanged chunks are skipped, a changed file's old chunks are replaced, and files that
disappeared from an ingested folder are removed. Every file is read and chunked before anything is
written, so a bad file costs only itself (its chunks from an earlier ingest stay).

Safe to interrupt: the new embeddings are computed first, then written under the store's exclusive
lock (questions meanwhile see the old index). ``index()`` runs on groups of whole files in one batch
each, so a file's new chunks and the deletion of its old ones are one step; a run killed part-way
leaves some files old and some new, and the next run repairs Chroma and the records
(:meth:`Store.repair`) and finishes the job.
"""

from __future__ import annotations

import hashlib
import json
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
    errors: list[str] = field(default_factory=list)  # files not ingested, and why
    notes: list[str] = field(default_factory=list)  # worth knowing, not a problem (duplicates)

    def summary(self) -> str:
        line = (
            f"{self.files} files, {self.chunks} chunks ({self.sentences} sentences): {self.embedded} embedded, "
            f"{self.skipped} unchanged, {self.removed} removed in {self.seconds:.1f}s"
        )
        return line + (f"; {len(self.errors)} problem(s)" if self.errors else "")


MAX_BATCH = 4000  # Chroma refuses larger upserts; only a file with more sentences spans two batches


def document_key(document: Document) -> str:
    """The record and Chroma id of a document: a hash of its text and metadata."""
    return hashlib.sha256(json.dumps([document.page_content, document.metadata], sort_keys=True).encode()).hexdigest()


def ingest(paths: list[Path], settings: Settings, store: Store, progress: bool | None = None) -> IngestReport:
    """Bring the index in line with the article files under ``paths``."""
    began = time.perf_counter()
    report = IngestReport()
    files, report.errors = find_files(paths)
    chunks, duplicates = _read(files, settings, store, report)
    sentences = [sentence_documents(documents) for documents in chunks]
    report.chunks = sum(map(len, chunks))
    report.sentences = sum(map(len, sentences))

    show = sys.stderr.isatty() if progress is None else progress
    for records, per_file in [(store.records, chunks), (store.sentence_records, sentences)]:
        # The slow part, before questions have to wait.
        wanted = [d for documents in per_file for d in documents]
        keys = [document_key(d) for d in wanted]
        known = [found for first in range(0, len(keys), 1000) for found in records.exists(keys[first : first + 1000])]
        new = [d.page_content for d, exists in zip(wanted, known, strict=True) if not exists]
        bar = tqdm(total=len(new), desc="embedding", disable=not show or not new, file=sys.stderr)
        for first in range(0, len(new), 256):
            store.precomputed.precompute(new[first : first + 256])
            bar.update(len(new[first : first + 256]))
        bar.close()

    try:
        with store.writing():
            store.repair()  # the collections are (re)opened inside the lock: another process may have written
            layers = zip(store.layers(), (chunks, sentences), strict=True)
            results = [_sync(vectors, records, per_file, settings) for (vectors, records), per_file in layers]
            report.removed = store.delete_paths(duplicates + _vanished(paths, store))
    finally:
        store.precomputed.forget()
    report.embedded = results[0]["num_added"] + results[0]["num_updated"]
    report.skipped = results[0]["num_skipped"]
    report.removed += results[0]["num_deleted"]
    report.seconds = time.perf_counter() - began
    return report


def _read(files: list[Path], settings: Settings, store: Store, report: IngestReport):
    """Each readable file's chunks; files whose text is already indexed under another name are skipped.

    Returns ``(chunks per file, paths of skipped duplicates)``: a duplicate's old chunks are removed.
    """
    loaded: list[tuple[Path, list[Document]]] = []
    for path in files:
        try:
            article = load_article(path, settings.max_file_bytes)
        except InvalidInput as problem:
            report.errors.append(str(problem))
            continue
        documents = chunk_article(
            article,
            tokenizer=settings.tokenizer,
            chunk_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
        )
        if not documents:
            report.errors.append(f"{path}: no text to index")
            continue
        loaded.append((path, documents))
    first_with = _indexed_elsewhere(store, {documents[0].metadata["file_hash"] for _, documents in loaded}, files)
    chunks: list[list[Document]] = []
    duplicates: list[str] = []
    for path, documents in loaded:
        original = first_with.setdefault(documents[0].metadata["file_hash"], path)
        if original != path:
            report.notes.append(f"{path}: same text as {original}; indexed once, as {original.name}")
            duplicates.append(str(path))
            continue
        chunks.append(documents)
        report.files += 1
    return chunks, duplicates


def _indexed_elsewhere(store: Store, digests: set[str], files: list[Path]) -> dict[str, Path]:
    """For texts already indexed from a file outside this ingest (and still on disk): that file."""
    found: dict[str, Path] = {}
    ingesting, ordered = set(files), sorted(digests)
    for first in range(0, len(ordered), 1000):
        part = ordered[first : first + 1000]
        for meta in store.vectors.get(where={"file_hash": {"$in": part}}, include=["metadatas"])["metadatas"]:
            path = Path(meta["path"])
            if path not in ingesting and path.exists():
                found[meta["file_hash"]] = min(found.get(meta["file_hash"], path), path)
    return found


def _sync(vectors, records, per_file: list[list[Document]], settings: Settings) -> dict[str, int]:
    """``index()`` over groups of whole files, each group one batch (see the module docstring)."""
    totals = {"num_added": 0, "num_updated": 0, "num_skipped": 0, "num_deleted": 0}
    group: list[Document] = []
    for position, documents in enumerate(per_file):
        group += documents
        if len(group) >= settings.embed_batch_size * 8 or position == len(per_file) - 1:
            result = index(
                group,
                records,
                vectors,
                cleanup="incremental",
                source_id_key="path",
                key_encoder=document_key,
                batch_size=min(len(group), MAX_BATCH),
            )
            for name in totals:
                totals[name] += result[name]
            group = []
    return totals


def _vanished(paths: list[Path], store: Store) -> list[str]:
    """Indexed files inside the given folders that no longer exist on disk."""
    folders = [p.resolve() for p in paths if p.is_dir()]
    return [
        indexed
        for indexed in store.chunks_per_path()
        if not Path(indexed).exists() and any(Path(indexed).is_relative_to(f) for f in folders)
    ]
