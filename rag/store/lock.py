"""Sharing one index between processes: the lock file and the generation marker in ``data_dir``.

A question holds a shared lock while it reads, an ingest the exclusive lock while it writes, so a
question sees the index from before or after an ingest, never half of one. The kernel releases a
lock when its process dies, so a killed ingest cannot leave it stuck. Each write also changes the
generation marker: a process that sees a new generation reopens Chroma, whose in-memory vector
index does not follow another process's writes.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from rag.errors import LockTimeout
from rag.store.faults import folder

LOCK_POLL = 0.05  # seconds between tries of a busy lock
TELL_WAITING = 1.0  # seconds an ingest waits on the lock before saying what for


class IndexLock:
    """``data_dir/index.lock`` and ``data_dir/generation``, and which threads of this process read."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._readers: dict[int, tuple[float, IO]] = {}  # thread -> (since, its lock file)
        self._abandoned: set[int] = set()  # threads whose stuck read lost its lock

    def open(self) -> IO:
        """The lock file, created with its folder if need be; not locked yet."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return open(self.data_dir / "index.lock", "a")  # the caller closes it, maybe early

    @contextmanager
    def reader(self, lock: IO) -> Iterator[None]:
        """Count this thread as a reader holding ``lock`` (see :meth:`release_stuck`)."""
        ident = threading.get_ident()
        self._readers[ident] = (time.monotonic(), lock)
        try:
            yield
        finally:
            self._readers.pop(ident, None)
            self._abandoned.discard(ident)  # it came back: its request has its answer

    def acquire(self, lock: IO, mode: int, wait: float | None) -> None:
        """Take ``lock`` in ``mode`` (``fcntl.LOCK_SH``/``LOCK_EX``), waiting at most ``wait`` seconds
        (None: as long as it takes, saying on stderr what for). Released when the file closes."""
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
                    f"the index in {folder(self.data_dir)} stayed locked for {wait:g} s by "
                    f"{lock_holders(lock)}; try again when it has finished"
                )
            if wait is None and not told and waited >= TELL_WAITING:
                print(
                    f"waiting for the index lock {self.data_dir / 'index.lock'}, held by {lock_holders(lock)} "
                    "(questions being answered, or another ingest) ...",
                    file=sys.stderr,
                    flush=True,
                )
                told = True
            time.sleep(LOCK_POLL)

    def release_stuck(self, timeout: float) -> int:
        """Close the lock of every reader that has held it longer than ``timeout`` seconds; how many."""
        now = time.monotonic()
        stuck = [(ident, lock) for ident, (since, lock) in list(self._readers.items()) if now - since > timeout]
        for ident, lock in stuck:
            self._readers.pop(ident, None)
            self._abandoned.add(ident)
            lock.close()
        return len(stuck)

    def abandoned(self, ident: int) -> bool:
        """Whether :meth:`release_stuck` took the lock of thread ``ident`` (asked once: then forgotten)."""
        if ident in self._abandoned:
            self._abandoned.discard(ident)
            return True
        return False

    def generation(self) -> str:
        """The generation marker: changes with every write, by any process ('' before the first)."""
        try:
            return (self.data_dir / "generation").read_text()
        except FileNotFoundError:
            return ""

    def new_generation(self) -> str:
        """Write a new generation marker (atomically) and return it."""
        marker = self.data_dir / "generation"
        generation = uuid.uuid4().hex
        marker.with_suffix(".tmp").write_text(generation)
        os.replace(marker.with_suffix(".tmp"), marker)
        return generation


def lock_holders(lock: IO) -> str:
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
