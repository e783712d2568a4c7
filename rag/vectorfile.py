"""Sentence vectors beside the index, memory-mapped and looked up by a hash of their text.

The reranker scores every sentence of the retrieved passages by its vector. Chroma hands those out
only through a metadata filter that scans the sentence rows (60–140 ms at 200 000 sentences, most
of a question's time); here a lookup is a binary search in a sorted array of keys, and only the
pages of the vectors asked for are read from disk.

On disk, a folder of segments, each a pair of append-only files written by one ingest:
``NAME.keys`` (one little-endian uint64 per row: the first 8 bytes of sha256 of the text) and
``NAME.f32`` (``dim`` float32 per row). A segment is published by renaming its files from
``*.partial``, keys last; a killed ingest leaves only partial files, which the next writer removes.
Keys are content hashes, so a stored vector never goes stale: the same text always has the same
vector. A sentence that left the index costs only disk space until the segments are compacted.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

KEY = np.dtype("<u8")
MAX_SEGMENTS = 8  # more are merged into one when an ingest ends: a reader maps few files
STALE_PARTIAL_S = 3600  # an unfinished segment this old is a killed ingest's (a live one writes on)


def text_key(text: str) -> int:
    """The key of a text: 64 bits of its sha256 (a collision among a million sentences: ~3e-8)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


class VectorFile:
    """The committed segments of one folder, read-only; :meth:`writer` adds a segment."""

    def __init__(self, folder: Path, dim: int = 384):
        self.folder = folder
        self.dim = dim
        self._vectors: list[np.ndarray] = []
        self._segment_keys: list[np.ndarray] = []  # each segment's keys, in its rows' order
        self._keys = np.zeros(0, KEY)  # sorted
        self._segment = np.zeros(0, np.int32)  # where each sorted key's vector is
        self._row = np.zeros(0, np.int64)
        self.load()

    def segments(self) -> list[Path]:
        return sorted(self.folder.glob("*.keys")) if self.folder.is_dir() else []

    def load(self) -> None:
        """Map every committed segment (a file that vanished meanwhile is a compaction: skipped)."""
        keys, segments, rows, vectors = [], [], [], []
        for path in self.segments():
            try:
                stored_keys = np.fromfile(path, KEY)
                matrix = _map(path.with_suffix(".f32"), self.dim)
            except (FileNotFoundError, ValueError):
                continue
            n = min(len(stored_keys), len(matrix))
            keys.append(stored_keys[:n])
            segments.append(np.full(n, len(vectors), np.int32))
            rows.append(np.arange(n, dtype=np.int64))
            vectors.append(matrix)
        self._vectors = vectors
        self._segment_keys = keys
        if not keys:
            self._keys = np.zeros(0, KEY)
            return
        all_keys = np.concatenate(keys)
        order = np.argsort(all_keys, kind="stable")
        self._keys = all_keys[order]
        self._segment = np.concatenate(segments)[order]
        self._row = np.concatenate(rows)[order]

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, keys: Iterable[int]) -> dict[int, np.ndarray]:
        """The stored vectors of those keys that are here (copies, float32)."""
        wanted = np.fromiter(keys, KEY)
        if not len(wanted) or not len(self._keys):
            return {}
        position = np.minimum(np.searchsorted(self._keys, wanted), len(self._keys) - 1)
        found = self._keys[position] == wanted
        return {int(key): np.array(self._vector(p)) for key, p in zip(wanted[found], position[found], strict=True)}

    def has(self, keys: Iterable[int]) -> np.ndarray:
        """Whether each key is stored (a boolean per key, in order)."""
        wanted = np.fromiter(keys, KEY)
        if not len(wanted) or not len(self._keys):
            return np.zeros(len(wanted), bool)
        position = np.minimum(np.searchsorted(self._keys, wanted), len(self._keys) - 1)
        return self._keys[position] == wanted

    def similarities(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, dot products with query)`` of every stored row, segment by segment.

        An exact search: the rows are read straight from the mapped files, so a question costs one
        pass over the matrix (about 40 ms per 200 000 rows) and nothing is held in memory for it.
        A key stored in two segments appears twice.
        """
        query = np.asarray(query, np.float32).reshape(self.dim)
        if not self._vectors:
            return np.zeros(0, KEY), np.zeros(0, np.float32)
        segments = zip(self._vectors, self._segment_keys, strict=True)
        with one_blas_thread():
            scores = [matrix[: len(keys)] @ query for matrix, keys in segments]
        return np.concatenate(self._segment_keys), np.concatenate(scores)

    def _vector(self, position: int) -> np.ndarray:
        return self._vectors[self._segment[position]][self._row[position]]

    def writer(self) -> SegmentWriter:
        return SegmentWriter(self.folder, self.dim)

    def tidy(self) -> None:
        """After an ingest (write lock held): drop a killed writer's leftovers, merge many segments."""
        for stale in self.folder.glob("*.partial") if self.folder.is_dir() else []:
            if time.time() - stale.stat().st_mtime > STALE_PARTIAL_S:
                stale.unlink(missing_ok=True)
        if len(self.segments()) > MAX_SEGMENTS:
            self.compact()
        else:
            self.load()

    def compact(self) -> None:
        """Merge every segment into one (each key once), then drop the old ones. Call with the
        index's write lock held; a kill half-way leaves duplicates, which are harmless."""
        old = self.segments()
        if len(old) < 2:
            return
        self.load()
        unique = np.ones(len(self._keys), bool)
        unique[1:] = self._keys[1:] != self._keys[:-1]
        with self.writer() as merged:
            for first in range(0, len(self._keys), 50_000):
                chosen = np.flatnonzero(unique[first : first + 50_000]) + first
                if len(chosen):
                    merged.add(self._keys[chosen], np.stack([self._vector(p) for p in chosen]))
        for path in old:
            path.unlink(missing_ok=True)  # keys first: the segment stops existing for readers
            path.with_suffix(".f32").unlink(missing_ok=True)
        self.load()


class SegmentWriter:
    """Appends rows to a new segment and publishes it on :meth:`commit` (or on leaving ``with``
    without an error); rows added so far can be read back with :meth:`get`."""

    def __init__(self, folder: Path, dim: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.dim = dim
        self.base = folder / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"  # names sort in writing order
        self._keys = open(self.base.with_suffix(".keys.partial"), "wb")  # noqa: SIM115 (closed in commit)
        self._vectors = open(self.base.with_suffix(".f32.partial"), "wb")  # noqa: SIM115
        self._rows: dict[int, int] = {}  # key -> its row in the file
        self._written = 0

    def __enter__(self) -> SegmentWriter:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, keys: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Append rows (vectors first: a key on disk always has its vector)."""
        vectors = np.ascontiguousarray(vectors, np.float32).reshape(-1, self.dim)
        keys = np.asarray(keys, KEY)
        vectors.tofile(self._vectors)
        keys.tofile(self._keys)
        for row, key in enumerate(keys.tolist(), start=self._written):
            self._rows.setdefault(key, row)
        self._written += len(keys)

    def get(self, keys: Iterable[int]) -> dict[int, np.ndarray]:
        """Vectors of keys added to this segment so far."""
        wanted = {key: self._rows[key] for key in keys if key in self._rows}
        if not wanted:
            return {}
        self._vectors.flush()
        matrix = _map(self.base.with_suffix(".f32.partial"), self.dim)
        return {key: np.array(matrix[row]) for key, row in wanted.items()}

    def commit(self) -> None:
        """Publish the segment (a no-op when already published or empty)."""
        if self._keys.closed:
            return
        self._keys.close()
        self._vectors.close()
        if not self._rows:
            self.discard()
            return
        os.replace(self.base.with_suffix(".f32.partial"), self.base.with_suffix(".f32"))
        os.replace(self.base.with_suffix(".keys.partial"), self.base.with_suffix(".keys"))

    def discard(self) -> None:
        self._keys.close()
        self._vectors.close()
        self.base.with_suffix(".keys.partial").unlink(missing_ok=True)
        self.base.with_suffix(".f32.partial").unlink(missing_ok=True)


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread():
    """Run a matrix-vector product on one BLAS thread.

    The product reads memory, so a second thread hardly speeds it up; but OpenBLAS's threads then
    spin for a while after it, taking the cores from the embedding model and the Python that runs
    next: measured, 30 ms more per question (p50 at 10 000 articles: 72 ms, against 45 ms on one thread).
    """
    return _blas().limit(limits=1, user_api="blas")


def _map(path: Path, dim: int) -> np.ndarray:
    """The rows of a vector file, memory-mapped (an empty file is an empty matrix)."""
    rows = path.stat().st_size // (4 * dim)
    if rows == 0:
        return np.zeros((0, dim), np.float32)
    return np.memmap(path, np.float32, "r", shape=(rows, dim))
