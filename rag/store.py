"""The Chroma collections (chunks and sentences) and the record managers that make re-ingesting a no-op.

The collections live in an embedded Chroma under ``data_dir``, or on a Chroma server when
``chroma_url`` is set, so a team can share one index. The record managers are this machine's
SQLite record of which chunk ids the index holds (``Settings.record_db``); the collection stays
the truth: whenever the two disagree in size (another machine ingested, the server was reset, the
record was lost) the record is rebuilt from the collection before ingesting.

Readers and the writer share the index through a lock file in ``data_dir``: a question holds a
shared lock while it reads, an ingest holds the exclusive lock while it writes, so a question sees
the index from before or after an ingest, never half of one. The lock works across processes
(``rag serve`` answering while ``rag ingest`` runs) and is released by the kernel when a process
dies, so a killed ingest cannot leave it stuck. Each write also changes a generation marker:
a process that sees a new generation reopens Chroma, whose in-memory vector index does not follow
another process's writes.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from urllib.parse import urlsplit

import chromadb
import chromadb.errors
import httpx
import numpy as np
import sqlalchemy
import sqlalchemy.exc
from chromadb.api.client import SharedSystemClient
from langchain_chroma import Chroma
from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.chunking import sentences_with_leads
from rag.embeddings import load_embeddings
from rag.errors import LockTimeout, StorageError
from rag.settings import Settings
from rag.vectorfile import VectorFile, text_key

PAGE = 5_000  # rows per read when walking a whole collection: memory stays flat
IDS_PAGE = 100_000  # ids alone are small; Chroma re-scans up to the offset per page, so few pages are fast


LOW_SPACE = 1 << 20  # bytes: below this a failed write is put down to a full disk
LOCK_POLL = 0.05  # seconds between tries of a busy lock
TELL_WAITING = 1.0  # seconds an ingest waits on the lock before saying what for
# What a store call raises when its disk or the store itself fails (not a bug in our code).
FAILURES = (OSError, sqlite3.Error, sqlalchemy.exc.SQLAlchemyError, chromadb.errors.ChromaError)


class StoreUnavailable(StorageError):
    """The Chroma server cannot be reached or the URL is not one."""


class Store:
    """Chroma collection ``settings.collection`` under ``settings.data_dir`` or on ``settings.chroma_url``.

    The embedding model is loaded on first use, so cheap questions (is anything indexed?) stay cheap.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.generation: str | None = None  # the index generation this process's Chroma client shows
        self.precomputed = PrecomputedEmbeddings(self)
        self._reopen = threading.Lock()
        self.fault: str | None = None  # the last storage failure, until a read goes through again
        self._readers: dict[int, tuple[float, object]] = {}  # thread -> (since, its lock file)
        self._abandoned: set[int] = set()  # threads whose stuck read lost its lock

    @cached_property
    def embeddings(self) -> Embeddings:
        return load_embeddings(
            self.settings.embedding_model, self.settings.embed_batch_size, self.settings.embedding_backend
        )

    @cached_property
    def client(self) -> chromadb.ClientAPI:
        if self.settings.chroma_url:
            return connect(self.settings.chroma_url)
        with self.guarded():
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

    @cached_property
    def sentence_matrix(self) -> VectorFile:
        """The sentence vectors again, memory-mapped beside the index: read by text, not by a filter."""
        return VectorFile(self.settings.data_dir / f"vectors-{self.settings.collection}")

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
        with self.guarded():
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            manager = SQLRecordManager(namespace=f"chroma/{name}", db_url=f"sqlite:///{self.settings.record_db}")
            manager.create_schema()
            return manager

    # Sharing the index between readers and one writer.

    @contextmanager
    def reading(self):
        """Hold off ingests while a question reads; follow the writes of other processes.

        The wait for the lock is bounded (``lock_timeout``), and a reader stuck in the store longer
        than ``store_timeout`` loses its lock (:meth:`release_stuck`), so a hung store call can
        never keep ingests out for good.
        """
        with self._locked(fcntl.LOCK_SH, self.settings.lock_timeout) as lock:
            self._readers[threading.get_ident()] = (time.monotonic(), lock)
            try:
                self._follow()
                yield
            finally:
                self._readers.pop(threading.get_ident(), None)
                self._abandoned.discard(threading.get_ident())  # it came back: its request has its answer
        self.fault = None  # a read went through: the store answers again

    @contextmanager
    def writing(self):
        """Exclusive access for an ingest; readers and other ingests wait until it ends.

        An ingest waits as long as it takes, saying on stderr what it waits for.
        """
        with self._locked(fcntl.LOCK_EX, None):
            self._follow()
            marker = self.settings.data_dir / "generation"
            self.generation = uuid.uuid4().hex
            marker.with_suffix(".tmp").write_text(self.generation)
            os.replace(marker.with_suffix(".tmp"), marker)  # before the first write: a killed ingest still counts
            yield

    @contextmanager
    def _locked(self, mode: int, wait: float | None):
        with self.guarded():
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            lock = open(self.settings.data_dir / "index.lock", "a")  # noqa: SIM115 - closed below, maybe early
        try:
            self._acquire(lock, mode, wait)  # released when the file closes, or when the process dies
            with self.guarded():
                yield lock
        finally:
            lock.close()

    def _acquire(self, lock, mode: int, wait: float | None) -> None:
        """Take the lock, waiting at most ``wait`` seconds (None: as long as it takes, saying why)."""
        began = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(lock, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            waited = time.monotonic() - began
            if wait is not None and waited >= wait:
                raise LockTimeout(
                    f"the index in {_folder(self.settings.data_dir)} stayed locked for {wait:g} s by "
                    f"{lock_holders(lock)}; try again when it has finished"
                )
            if wait is None and not told and waited >= TELL_WAITING:
                print(
                    f"waiting for the index lock {self.settings.data_dir / 'index.lock'}, held by {lock_holders(lock)} "
                    "(questions being answered, or another ingest) ...",
                    file=sys.stderr,
                    flush=True,
                )
                told = True
            time.sleep(LOCK_POLL)

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
        now = time.monotonic()
        stuck = [
            (ident, lock)
            for ident, (since, lock) in list(self._readers.items())
            if now - since > self.settings.store_timeout
        ]
        for ident, lock in stuck:
            self._readers.pop(ident, None)
            self._abandoned.add(ident)
            lock.close()
        if stuck:
            self.fault = (
                f"the index store in {_folder(self.settings.data_dir)} did not answer within "
                f"{self.settings.store_timeout:g} s{self._disk_note()}"
            )
            self.reset()
        return len(stuck)

    def abandoned(self, ident: int) -> StorageError | None:
        """The error for a request whose thread :meth:`release_stuck` gave up on, else None."""
        if ident in self._abandoned:
            self._abandoned.discard(ident)
            return StorageError(self.fault or "the index store did not answer")
        return None

    def reset(self) -> None:
        """Drop this process's Chroma client; the next call opens a fresh one."""
        with self._reopen:
            for name in ("client", "vectors", "sentence_vectors"):
                self.__dict__.pop(name, None)
            SharedSystemClient.clear_system_cache()

    def disk_problem(self) -> str | None:
        """Why writes to ``data_dir`` would fail right now (full, read-only), from the file system alone."""
        return _disk_cause(self.settings.data_dir, None)

    def _disk_note(self) -> str:
        cause = self.disk_problem()
        return f" ({cause})" if cause else ""

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
            for name in ("client", "vectors", "sentence_vectors", "sentence_matrix"):
                self.__dict__.pop(name, None)
            SharedSystemClient.clear_system_cache()  # else Chroma hands back the same stale client

    # Questions about the index.

    def count(self) -> int:
        """Chunks in the index, without loading the embedding model."""
        with self.guarded():
            if "vectors" in self.__dict__:
                return self.vectors._collection.count()
            names = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
            if self.settings.collection not in names:
                return 0
            return self.client.get_collection(self.settings.collection).count()

    def chunks_per_path(self) -> Counter[str]:
        """How many chunks each indexed file has, keyed by its resolved path."""
        return Counter(meta["path"] for _, meta in pages(self.vectors, "metadatas"))

    def sentences_by_id(self, ids: list[str]) -> list[Document]:
        """These indexed sentences, in the order asked (ids no longer indexed are left out)."""
        found = self.sentence_vectors.get(ids=ids, include=["documents", "metadatas"])
        by_id = {
            id_: Document(page_content=text, metadata=meta, id=id_)
            for id_, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def sentence_vectors_of(self, documents: list[Document]) -> dict[str, np.ndarray]:
        """The stored vectors of these documents' sentences that read alone (no lead), by text.

        The answerer scores every sentence of the retrieved chunks by its vector; reading them from
        the memory-mapped sentence matrix instead of embedding them again is most of a question's
        cost. Sentences the matrix lacks (an index ingested before it existed, or by another
        machine sharing the Chroma server) are read from Chroma by their files' paths.
        """
        paths: dict[str, set[str]] = {}  # text -> the files it is read from
        for document in documents:
            for text, _, _, lead in sentences_with_leads(document):
                if not lead:
                    paths.setdefault(text, set()).add(document.metadata["path"])
        keys = {text: text_key(text) for text in paths}
        found = self.sentence_matrix.get(keys.values())
        vectors = {text: found[key] for text, key in keys.items() if key in found}
        if missing := sorted({path for text in paths.keys() - vectors.keys() for path in paths[text]}):
            vectors = self._chroma_sentence_vectors(missing) | vectors
        return vectors

    def _chroma_sentence_vectors(self, paths: list[str]) -> dict[str, np.ndarray]:
        found = self.sentence_vectors.get(
            where={"path": {"$in": paths}}, include=["documents", "metadatas", "embeddings"]
        )
        return {
            text: np.asarray(vector)
            for text, meta, vector in zip(found["documents"], found["metadatas"], found["embeddings"], strict=True)
            if not meta.get("lead")
        }

    def fill_sentence_matrix(self) -> int:
        """Copy the sentence vectors Chroma holds into the matrix when it has none (an index from before
        the matrix, or a server another machine filled); inside ``writing()``. Returns rows copied."""
        if self.sentence_matrix.segments() or self.sentence_vectors._collection.count() == 0:
            return 0
        with self.sentence_matrix.writer() as writer:
            offset = 0
            while True:
                page = self.sentence_vectors.get(include=["documents", "embeddings"], limit=PAGE, offset=offset)
                if len(page["ids"]):
                    writer.add([text_key(t) for t in page["documents"]], np.asarray(page["embeddings"]))
                if len(page["ids"]) < PAGE:
                    break
                offset += PAGE
        self.sentence_matrix.load()
        return len(writer)

    def reconcile(self) -> None:
        """Make the records and the collections agree before an ingest writes (inside ``writing()``).

        The collection is the truth when it is shared (a Chroma server other machines write to) or
        when the record file was lost: the records are rebuilt from it, and nothing is embedded again.
        Otherwise the local records are the truth, and what a killed ingest left half-written is
        dropped so the next sync re-adds it.
        """
        if self.settings.chroma_url or self.records_lost():
            self.reconcile_records()
        else:
            self.repair()

    def records_lost(self) -> bool:
        """Whether a layer holds vectors but has no record of them (the record file was deleted)."""
        return any(_record_count(records) == 0 < vectors._collection.count() for vectors, records in self.layers())

    def reconcile_records(self) -> None:
        """Rebuild a record manager from its collection when their sizes disagree.

        Runs before every ingest: a second machine sharing a Chroma server, a server that was reset or
        a deleted record file would otherwise re-embed everything or keep stale chunks forever.
        """
        for vectors, records in self.layers():
            held = vectors._collection.count()
            if _record_count(records) == held:
                continue
            while keys := records.list_keys(limit=PAGE):
                records.delete_keys(keys)
            ids, paths = [], []
            for id_, meta in pages(vectors, "metadatas"):
                ids.append(id_)
                paths.append(meta["path"])
                if len(ids) == PAGE:
                    records.update(ids, group_ids=paths)
                    ids, paths = [], []
            if ids:
                records.update(ids, group_ids=paths)

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
            stored = set(all_ids(vectors))
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


def pages(vectors: Chroma, field: str) -> Iterator[tuple[str, object]]:
    """``(id, documents|metadatas value)`` of every row, read a page at a time."""
    offset = 0
    while True:
        found = vectors.get(include=[field], limit=PAGE, offset=offset)
        yield from zip(found["ids"], found[field], strict=True)
        if len(found["ids"]) < PAGE:
            return
        offset += PAGE


def all_ids(vectors: Chroma) -> list[str]:
    """Every row's id, a page at a time (ids only: no text, no vectors)."""
    ids: list[str] = []
    while page := vectors.get(include=[], limit=IDS_PAGE, offset=len(ids))["ids"]:
        ids += page
        if len(page) < IDS_PAGE:
            break
    return ids


def connect(url: str) -> chromadb.ClientAPI:
    """A client of the Chroma server at ``url`` (``http://host:port`` or ``https://...``)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in {"http", "https"} or not parts.hostname or port == -1 or parts.path not in {"", "/"}:
        raise StoreUnavailable(f"chroma_url {url!r} is not a server address like http://127.0.0.1:8000")
    ssl = parts.scheme == "https"
    try:
        return chromadb.HttpClient(
            host=parts.hostname,
            port=port or (443 if ssl else 8000),
            ssl=ssl,
            settings=chromadb.Settings(anonymized_telemetry=False),
        )
    except Exception as exc:  # chromadb says ValueError("Could not connect ..."); httpx errors vary
        raise StoreUnavailable(
            f"cannot reach the Chroma server at {url} ({exc}); start it with "
            "`chroma run --path DIR --host HOST --port PORT` or unset chroma_url to use the local index"
        ) from exc


def storage_error(exc: BaseException, data_dir) -> StorageError:
    """One :class:`StorageError` for a failed store call, naming the cause and ``data_dir``."""
    cause = _disk_cause(data_dir, exc)
    if cause is None:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        return StorageError(
            f"the index in {_folder(data_dir)} failed ({type(exc).__name__}: {detail}); "
            "run `rag ingest` again to repair it, or rebuild it by deleting the folder"
        )
    return StorageError(f"{cause}; nothing indexed is lost: fix that, then run `rag ingest` again")


def _disk_cause(data_dir, exc: BaseException | None) -> str | None:
    """'no space left on the device holding data/', 'read-only', ... or None when the disk looks fine."""
    folder = _folder(data_dir)
    chain, seen = [], exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    said = " ".join(str(e) for e in chain).lower()
    codes = {getattr(e, "errno", None) for e in chain}
    try:
        disk = os.statvfs(data_dir if os.path.isdir(data_dir) else ".")
    except OSError:
        disk = None
    if (
        codes & {errno.ENOSPC, errno.EDQUOT}
        or "no space left" in said
        or "disk is full" in said
        or (disk is not None and disk.f_bavail * disk.f_frsize < LOW_SPACE)
    ):
        return f"no space left on the device holding {folder}"
    if (
        errno.EROFS in codes
        or "read-only file system" in said
        or "readonly database" in said
        or (disk is not None and disk.f_flag & os.ST_RDONLY)
    ):
        return f"the device holding {folder} is read-only"
    if codes & {errno.EACCES, errno.EPERM} or (os.path.isdir(data_dir) and not os.access(data_dir, os.W_OK)):
        return f"no permission to write to {folder}"
    return None


def _folder(data_dir) -> str:
    return str(data_dir).rstrip("/") + "/"


def lock_holders(lock) -> str:
    """Which processes hold ``lock`` (from /proc/locks, Linux), e.g. 'process 123 (rag serve ...)'."""
    try:
        inode = os.fstat(lock.fileno()).st_ino
        with open("/proc/locks") as table:
            rows = [line.split() for line in table if "->" not in line]
    except (OSError, ValueError):
        return "another process"
    pids = sorted({int(row[4]) for row in rows if len(row) > 5 and row[5].rsplit(":", 1)[-1] == str(inode)})
    pids = [pid for pid in pids if pid != os.getpid()] or pids
    if not pids:
        return "another process"
    shown = []
    for pid in pids[:3]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as command:
                words = [
                    os.path.basename(w) if i == 0 else w
                    for i, w in enumerate(command.read().decode(errors="replace").split("\0"))
                    if w
                ]
        except OSError:
            words = []
        shown.append(f"process {pid}" + (f" ({' '.join(words)[:80]})" if words else ""))
    return ", ".join(shown)


def _record_count(records: SQLRecordManager) -> int:
    with records.engine.connect() as connection:
        return connection.execute(
            sqlalchemy.text("SELECT count(*) FROM upsertion_record WHERE namespace = :namespace"),
            {"namespace": records.namespace},
        ).scalar_one()
