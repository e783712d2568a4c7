"""Sentence spans of article texts already split, kept beside the index: a re-ingest does not split again.

Splitting sentences (syntok, pure Python) was three quarters of re-ingesting an unchanged corpus.
The spans are a function of the text and of the splitting code alone, so they are stored under a
hash of both: an edited file misses and is split afresh, and so is every file once the splitter
changes (a new syntok, or any edit of ``rag/sentences.py`` or ``rag/loading.py``). The cache only
ever saves time: when its file cannot be read or written, texts are split as if it were empty.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

Paragraphs = list[list[tuple[int, int]]]  # sentence spans per kept line, offsets into the file's text
_SPLITTING_CODE = ("sentences.py", "loading.py")


@lru_cache(maxsize=1)
def splitter_fingerprint() -> str:
    """A hash of what decides the spans: syntok's version and our splitting code."""
    digest = hashlib.sha256(version("syntok").encode())
    for name in _SPLITTING_CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


class SplitCache:
    """``data_dir/sentence-splits.sqlite``: text hash → its paragraphs of sentence spans.

    Open for one ingest (or as a context manager): lookups are one indexed read each, and new
    entries are written together on :meth:`flush` and :meth:`close`.
    """

    def __init__(self, path: Path):
        self.path = path
        self._pending: list[tuple[str, str]] = []
        self._db: sqlite3.Connection | None = None
        try:
            self._db = sqlite3.connect(path, timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS splits (key TEXT PRIMARY KEY, paragraphs TEXT NOT NULL)")
        except sqlite3.Error:
            self.close()  # unreadable or not writable: split everything, as without a cache

    def __enter__(self) -> SplitCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None

    def get(self, text: str, start: int) -> Paragraphs | None:
        """The spans stored for ``text`` read from ``start`` (where its body begins), or ``None``."""
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT paragraphs FROM splits WHERE key = ?", (_key(text, start),)).fetchone()
            return None if row is None else [[(s, e) for s, e in spans] for spans in json.loads(row[0])]
        except (sqlite3.Error, ValueError, TypeError):
            return None  # a damaged entry is a miss: the text is split again

    def put(self, text: str, start: int, paragraphs: Paragraphs) -> None:
        self._pending.append((_key(text, start), json.dumps(paragraphs, separators=(",", ":"))))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if self._db is None or not pending:
            return
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO splits (key, paragraphs) VALUES (?, ?)", pending)
        except sqlite3.Error:
            pass  # not stored: the next ingest splits these texts again


def _key(text: str, start: int) -> str:
    return hashlib.sha256(f"{splitter_fingerprint()}\0{start}\0{text}".encode()).hexdigest()
