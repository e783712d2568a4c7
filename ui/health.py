"""``/api/health`` within a second whatever the store does, and the watchdog that frees a stuck reader.

A store call can hang (seen with a full disk: a Chroma read never returned while holding the
index lock). Health therefore reads the index counts in a thread of its own and waits for them at
most ``BUDGET`` seconds; past that, or when the last store call failed, or when ``data_dir``'s disk
is full or read-only, it answers ``"status": "degraded"`` with the reason in ``"problem"``. Only one
count runs at a time, so a hung store cannot pile up threads. The watchdog frees, once a second,
the lock of any question stuck in the store longer than ``store_timeout`` (see
:meth:`rag.store.Store.release_stuck`), so ingests can go on and the store is reopened.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future

from rag import Assistant, RagError

BUDGET = 0.5  # seconds health waits for the counts: it must answer within one
WATCH_EVERY = 1.0  # seconds between the watchdog's looks at the readers


class HealthProbe:
    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.store = assistant.store
        self._pending: tuple[Future, float] | None = None  # the count under way, and when it began
        self._last: tuple[str, dict] | None = None  # (generation marker, counts) of the last count that finished
        self._lock = threading.Lock()
        threading.Thread(target=self._watch, daemon=True, name="store-watchdog").start()

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_EVERY)
            self.store.release_stuck()

    async def check(self) -> dict:
        problem = None
        counting, since = self._counts()
        try:  # a count that has already overrun the budget is not waited for again
            wait = max(0.0, BUDGET - (time.monotonic() - since))
            stats = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(counting)), wait)
        except TimeoutError:
            stats = self._last[1] if self._last else {}
            problem = f"the index store did not answer within {BUDGET:g} s"
        except RagError as failed:
            stats = self._last[1] if self._last else {}
            problem = str(failed)
        problem = problem or self.store.fault or self.store.disk_problem()
        return {"status": "degraded" if problem else "ok", **stats, **({"problem": problem} if problem else {})}

    def _counts(self) -> tuple[Future, float]:
        """The counts and when their reading began: cached while the index is unchanged, else read by one
        thread at a time."""
        marker = self._marker()
        with self._lock:
            if self._last is not None and self._last[0] == marker and not self.store.fault:
                done: Future = Future()
                done.set_result(self._last[1])
                return done, time.monotonic()
            if self._pending is None or self._pending[0].done():
                self._pending = (Future(), time.monotonic())
                threading.Thread(target=self._count, args=(self._pending[0], marker), daemon=True).start()
            return self._pending

    def _count(self, future: Future, marker: str) -> None:
        try:
            stats = self.assistant.stats()
        except BaseException as failed:
            future.set_exception(failed)
            return
        self._last = (marker, stats)
        future.set_result(stats)

    def _marker(self) -> str:
        try:
            return (self.assistant.settings.data_dir / "generation").read_text()
        except OSError:
            return ""
