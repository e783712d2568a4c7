"""The store: the chunk and sentence collections, their record managers, and sharing them safely.

The collections live in an embedded Chroma under ``data_dir``, or on a Chroma server when
``chroma_url`` is set, so a team can share one index. Callers ask for rows by typed arguments
(an :class:`~rag.filters.ArticleFilter`, a source, a list of paths); every Chroma ``where``,
page size, lock and repair stays in ``rag.store``. Readers and the one writer share the index
through :class:`~rag.store.lock.IndexLock`; every failure of the disk or of Chroma becomes one
:class:`StorageError` naming its cause (:meth:`Store.guarded`).
"""

from __future__ import annotations

import fcntl
import threading
from contextlib import contextmanager
from functools import cached_property

import chromadb
import httpx
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from rag.embeddings import load_embeddings
from rag.errors import StorageError
from rag.settings import Settings
from rag.store.client import collection_count, connect, forget_clients, open_local
from rag.store.embedding import PrecomputedEmbeddings
from rag.store.faults import FAILURES, StoreUnavailable, disk_cause, folder, storage_error
from rag.store.fingerprints import FileFingerprints
from rag.store.lock import IndexLock
from rag.store.queries import Queries
from rag.store.records import RecordKeeping, open_records
from rag.store.sentence_table import SentenceTable
from rag.store.sqlite_records import SQLiteRecordManager
from rag.vectorfile import VectorFile

OPENED = ("client", "vectors", "sentence_vectors")  # what a reopen drops


class Store(Queries, RecordKeeping):
    """Chroma collection ``settings.collection`` under ``settings.data_dir`` or on ``settings.chroma_url``.

    The embedding model is loaded on first use, so cheap questions (is anything indexed?) stay cheap.
    The reads and deletes callers use are in :class:`~rag.store.queries.Queries`, keeping the
    records in step with the collections in :class:`~rag.store.records.RecordKeeping`.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.generation: str | None = None  # the index generation this process's Chroma client shows
        self.precomputed = PrecomputedEmbeddings(lambda: self.embeddings)
        self.lock = IndexLock(settings.data_dir)
        self._reopen = threading.Lock()
        self.fault: str | None = None  # the last storage failure, until a read goes through again

    @cached_property
    def embeddings(self) -> Embeddings:
        return load_embeddings(
            self.settings.embedding_model, self.settings.embed_batch_size, self.settings.embedding_backend
        )

    @cached_property
    def fingerprints(self) -> FileFingerprints | None:
        """Files indexed whole, to skip unchanged ones early; None on a Chroma server others write to."""
        if self.settings.chroma_url:
            return None
        settings = self.settings
        with self.guarded():
            return FileFingerprints(
                settings.indexed_files,
                settings.collection,
                f"{settings.tokenizer}\0{settings.chunk_tokens}\0{settings.chunk_overlap_tokens}",
            )

    @cached_property
    def client(self) -> chromadb.ClientAPI:
        if self.settings.chroma_url:
            return connect(self.settings.chroma_url)
        with self.guarded():
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.generation = self.lock.generation()
            return open_local(self.settings.chroma_dir)

    @property
    def names(self) -> tuple[str, str]:
        """The collections: chunks, sentences."""
        return self.settings.collection, f"{self.settings.collection}-sentences"

    @cached_property
    def vectors(self) -> Chroma:
        """Chunks: what the retriever returns and the answer cites."""
        return self._chroma(self.names[0])

    @cached_property
    def sentence_vectors(self) -> Chroma | SentenceTable:
        """Single sentences: finds a fact that a chunk's averaged embedding blurs.

        A Chroma collection on a shared server; on one machine a :class:`SentenceTable`, which
        writes five times faster and searches the sentence matrix the answerer reads anyway.
        """
        if self.settings.chroma_url:
            return self._chroma(self.names[1])
        with self.guarded():
            return SentenceTable(self.settings.sentence_table, lambda: self.sentence_matrix, self.precomputed)

    @cached_property
    def records(self) -> SQLiteRecordManager:
        return self._records(self.names[0])

    @cached_property
    def sentence_records(self) -> SQLiteRecordManager:
        return self._records(self.names[1])

    @cached_property
    def sentence_matrix(self) -> VectorFile:
        """The sentence vectors again, memory-mapped beside the index: read by text, not by a filter."""
        return VectorFile(self.settings.data_dir / f"vectors-{self.settings.collection}")

    def layers(self) -> list[tuple[Chroma, SQLiteRecordManager]]:
        """``(collection, its record manager)`` for chunks, then sentences: what ``index()`` syncs."""
        return [(self.vectors, self.records), (self.sentence_vectors, self.sentence_records)]

    def _chroma(self, name: str) -> Chroma:
        return Chroma(
            client=self.client,
            collection_name=name,
            embedding_function=self.precomputed,
            collection_metadata={"hnsw:space": "cosine"},
        )

    def _records(self, name: str) -> SQLiteRecordManager:
        with self.guarded():
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            return open_records(name, self.settings.record_db)

    def _held(self, name: str) -> int:
        if name == self.names[1] and not self.settings.chroma_url:
            return self.sentence_vectors.count()
        return collection_count(self.client, name)

    # Sharing the index between readers and one writer.

    @contextmanager
    def reading(self):
        """Hold off ingests while a question reads; follow the writes of other processes.

        The wait for the lock is bounded (``lock_timeout``), and a reader stuck in the store longer
        than ``store_timeout`` loses its lock (:meth:`release_stuck`), so a hung store call can
        never keep ingests out for good.
        """
        with self._locked(fcntl.LOCK_SH, self.settings.lock_timeout) as lock, self.lock.reader(lock):
            self._follow()
            yield
        self.fault = None  # a read went through: the store answers again

    @contextmanager
    def writing(self):
        """Exclusive access for an ingest; readers and other ingests wait until it ends.

        An ingest waits as long as it takes, saying on stderr what it waits for.
        """
        with self._locked(fcntl.LOCK_EX, None):
            self._follow()
            self.generation = self.lock.new_generation()  # before the first write: a killed ingest still counts
            yield

    @contextmanager
    def _locked(self, mode: int, wait: float | None):
        with self.guarded():
            lock = self.lock.open()
        try:
            self.lock.acquire(lock, mode, wait)  # released when the file closes, or when the process dies
            with self.guarded():
                yield lock
        finally:
            lock.close()

    @contextmanager
    def guarded(self):
        """Turn the store's and the disk's failures into one :class:`StorageError` naming the cause."""
        try:
            yield
        except StorageError as problem:
            self.fault = str(problem)
            raise
        except httpx.TransportError as exc:  # the Chroma server went away after we connected
            self.fault = f"lost the Chroma server at {self.settings.chroma_url}"
            raise StoreUnavailable(
                f"lost the Chroma server at {self.settings.chroma_url} ({exc}); nothing was changed by this "
                "request beyond what finished before it. Restart the server and try again."
            ) from exc
        except FAILURES as exc:
            problem = storage_error(exc, self.settings.data_dir)
            self.fault = str(problem)
            if not self.settings.chroma_url:
                self.reset()  # a failed write can leave the embedded Chroma's state behind the disk's
            raise problem from exc

    def release_stuck(self) -> int:
        """Free the lock of every reader that has waited on the store longer than ``store_timeout``.

        A store call that never returns (seen with a full disk) must not keep ingests out: its lock
        is closed under it, this process's Chroma client is reopened for the next question, and the
        stuck thread's own request gets its 503 from :meth:`abandoned`. Returns how many were freed.
        """
        freed = self.lock.release_stuck(self.settings.store_timeout)
        if freed:
            cause = self.disk_problem()
            self.fault = (
                f"the index store in {folder(self.settings.data_dir)} did not answer within "
                f"{self.settings.store_timeout:g} s" + (f" ({cause})" if cause else "")
            )
            self.reset()
        return freed

    def abandoned(self, ident: int) -> StorageError | None:
        """The error for a request whose thread :meth:`release_stuck` gave up on, else None."""
        if self.lock.abandoned(ident):
            return StorageError(self.fault or "the index store did not answer")
        return None

    def reset(self) -> None:
        """Drop this process's Chroma client; the next call opens a fresh one."""
        with self._reopen:
            self._drop(OPENED)

    def disk_problem(self) -> str | None:
        """Why writes to ``data_dir`` would fail right now (full, read-only), from the file system alone."""
        return disk_cause(self.settings.data_dir, None)

    def _follow(self) -> None:
        """Reopen Chroma when another process wrote since this one opened it."""
        with self._reopen:
            if "client" in self.__dict__ and self.lock.generation() != self.generation:
                self._drop((*OPENED, "sentence_matrix"))

    def _drop(self, names: tuple[str, ...]) -> None:
        for name in names:
            self.__dict__.pop(name, None)  # a SentenceTable closes when the last thread using it lets go
        forget_clients()  # else Chroma hands back the same stale client
