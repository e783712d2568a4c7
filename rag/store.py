"""The persistent Chroma collections (chunks and sentences) and the record managers that make re-ingesting a no-op.

Readers and the writer share the index through a lock file in ``data_dir``: a question holds a
shared lock while it reads, an ingest holds the exclusive lock while it writes, so a question sees
the index from before or after an ingest, never half of one. The lock works across processes
(``rag serve`` answering while ``rag ingest`` runs) and is released by the kernel when a process
dies, so a killed ingest cannot leave it stuck. Each write also changes a generation marker:
a process that sees a new generation reopens Chroma, whose in-memory vector index does not follow
another process's writes.
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from functools import cached_property

import chromadb
from chromadb.api.client import SharedSystemClient
from langchain_chroma import Chroma
from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.embeddings import load_embeddings
from rag.settings import Settings


class Store:
    """Chroma collection ``settings.collection`` under ``settings.data_dir``.

    The embedding model is loaded on first use, so cheap questions (is anything indexed?) stay cheap.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.generation: str | None = None  # the index generation this process's Chroma client shows
        self.precomputed = PrecomputedEmbeddings(self)
        self._reopen = threading.Lock()

    @cached_property
    def embeddings(self) -> Embeddings:
        return load_embeddings(self.settings.embedding_model, self.settings.embed_batch_size)

    @cached_property
    def client(self) -> chromadb.ClientAPI:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.generation = self._read_generation()
        return chromadb.PersistentClient(
            path=str(self.settings.chroma_dir),
            settings=chromadb.Settings(anonymized_telemetry=False),
        )

    @cached_property
    def vectors(self) -> Chroma:
        """Chunks: what the retriever returns and the answer cites."""
        return self._chroma(self.settings.collection)

    @cached_property
    def sentence_vectors(self) -> Chroma:
        """Single sentences: finds a fact that a chunk's averaged embedding blurs."""
        return self._chroma(f"{self.settings.collection}-sentences")

    @cached_property
    def records(self) -> SQLRecordManager:
        return self._records(self.settings.collection)

    @cached_property
    def sentence_records(self) -> SQLRecordManager:
        return self._records(f"{self.settings.collection}-sentences")

    def layers(self) -> list[tuple[Chroma, SQLRecordManager]]:
        return [(self.vectors, self.records), (self.sentence_vectors, self.sentence_records)]

    def _chroma(self, name: str) -> Chroma:
        return Chroma(
            client=self.client,
            collection_name=name,
            embedding_function=self.precomputed,
            collection_metadata={"hnsw:space": "cosine"},
        )

    def _records(self, name: str) -> SQLRecordManager:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        manager = SQLRecordManager(namespace=f"chroma/{name}", db_url=f"sqlite:///{self.settings.record_db}")
        manager.create_schema()
        return manager

    # Sharing the index between readers and one writer.

    @contextmanager
    def reading(self):
        """Hold off ingests while a question reads; follow the writes of other processes."""
        with self._locked(fcntl.LOCK_SH):
            self._follow()
            yield

    @contextmanager
    def writing(self):
        """Exclusive access for an ingest; readers and other ingests wait until it ends."""
        with self._locked(fcntl.LOCK_EX):
            self._follow()
            marker = self.settings.data_dir / "generation"
            self.generation = uuid.uuid4().hex
            marker.with_suffix(".tmp").write_text(self.generation)
            os.replace(marker.with_suffix(".tmp"), marker)  # before the first write: a killed ingest still counts
            yield

    @contextmanager
    def _locked(self, mode: int):
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.data_dir / "index.lock", "a") as lock:
            fcntl.flock(lock, mode)  # released when the file closes, or when the process dies
            yield

    def _read_generation(self) -> str:
        try:
            return (self.settings.data_dir / "generation").read_text()
        except FileNotFoundError:
            return ""

    def _follow(self) -> None:
        """Reopen Chroma when another process wrote since this one opened it."""
        with self._reopen:
            if "client" not in self.__dict__ or self._read_generation() == self.generation:
                return
            for name in ("client", "vectors", "sentence_vectors"):
                self.__dict__.pop(name, None)
            SharedSystemClient.clear_system_cache()  # else Chroma hands back the same stale client

    # Questions about the index.

    def count(self) -> int:
        """Chunks in the index, without loading the embedding model."""
        if "vectors" in self.__dict__:
            return self.vectors._collection.count()
        names = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
        return self.client.get_collection(self.settings.collection).count() if self.settings.collection in names else 0

    def chunks_per_path(self) -> Counter[str]:
        """How many chunks each indexed file has, keyed by its resolved path."""
        metadatas = self.vectors.get(include=["metadatas"])["metadatas"]
        return Counter(m["path"] for m in metadatas)

    def all_sentences(self) -> list[Document]:
        """Every indexed sentence, for the lexical retriever."""
        found = self.sentence_vectors.get(include=["documents", "metadatas"])
        return [
            Document(page_content=text, metadata=meta, id=id_)
            for id_, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]

    # Writing (inside ``writing()``).

    def delete_paths(self, paths: list[str]) -> int:
        """Remove these files from every layer and its record manager; return the chunks removed."""
        removed = []
        for vectors, records in self.layers() if paths else []:
            ids = vectors.get(where={"path": {"$in": paths}}, include=[])["ids"]
            if ids:
                vectors.delete(ids=ids)
                records.delete_keys(ids)
            removed.append(len(ids))
        return removed[0] if removed else 0

    def repair(self) -> int:
        """Make Chroma and the records agree again after an ingest was killed half-way.

        LangChain's ``index()`` writes Chroma first and its record second: a kill in between leaves
        vectors with no record (invisible to cleanup: an orphan forever) or, during a delete,
        records with no vector. Both are dropped here, so the next sync re-adds what is still wanted.
        Returns how many entries were dropped.
        """
        dropped = 0
        for vectors, records in self.layers():
            stored = set(vectors.get(include=[])["ids"])
            recorded = set(records.list_keys())
            if orphans := sorted(stored - recorded):
                vectors.delete(ids=orphans)
            if ghosts := sorted(recorded - stored):
                records.delete_keys(ghosts)
            dropped += len(orphans) + len(ghosts)
        return dropped


class PrecomputedEmbeddings(Embeddings):
    """The store's embedding function: vectors computed before the write lock is taken, else the model.

    Embedding is the slow part of an ingest; computing it first keeps the time questions wait for
    the lock down to the writes themselves.
    """

    def __init__(self, store: Store):
        self.store = store
        self.ready: dict[str, list[float]] = {}

    def precompute(self, texts: list[str], batch: int = 64) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self.ready]
        for first in range(0, len(missing), batch):  # small calls: questions embed in between
            part = missing[first : first + batch]
            self.ready.update(zip(part, self.store.embeddings.embed_documents(part), strict=True))

    def forget(self) -> None:
        self.ready.clear()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.precompute(texts)
        return [self.ready[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.store.embeddings.embed_query(text)
