"""Which articles a question may be answered from: a date range and outlets.

One typed object, applied inside retrieval: the store turns it into a Chroma ``where`` on the
chunk and sentence searches and into the set of allowed sentence ids for the BM25 keyword search,
so no passage from another article ever reaches the reranker. Callers build an
:class:`ArticleFilter`, never a ``where`` dict.

Recency: a question that asks for the latest news ("What is the most recent ...", "... last
week"), or the ``recency`` setting, lets newer articles win ties.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.errors import InvalidQuestion
from rag.metadata import day_number, outlet_key, parse_date

MAX_OUTLETS = 100
_RECENT = re.compile(
    r"\b(latest|newest|most recent(ly)?|recent(ly)?|lately|last (few )?(days?|weeks?|months?)|"
    r"this (week|month|year)|current(ly)?|today|yesterday|up to date)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ArticleFilter:
    """Only articles dated ``since``..``until`` (inclusive) and from one of ``outlets``; empty: all."""

    since: dt.date | None = None
    until: dt.date | None = None
    outlets: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls, since: object = None, until: object = None, outlets: Iterable[object] | str | None = None
    ) -> ArticleFilter:
        """From user input (CLI flags, JSON fields, page controls); raise :class:`InvalidQuestion` on bad input."""
        start, end = _date(since, "since"), _date(until, "until")
        if start and end and start > end:
            raise InvalidQuestion(f"since ({start.isoformat()}) is after until ({end.isoformat()})")
        if outlets is None or outlets == "":
            names: tuple[str, ...] = ()
        elif isinstance(outlets, str):
            names = (outlets,)
        elif isinstance(outlets, list | tuple):
            names = tuple(outlets)
        else:
            raise InvalidQuestion("outlets must be a list of outlet names")
        if len(names) > MAX_OUTLETS or not all(isinstance(n, str) and n.strip() for n in names):
            raise InvalidQuestion(f"outlets must be a list of at most {MAX_OUTLETS} non-empty outlet names")
        return cls(start, end, tuple(dict.fromkeys(" ".join(n.split()) for n in names)))

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.outlets)

    def matches(self, metadata: dict) -> bool:
        """Whether a chunk or sentence with this metadata passes (the store runs the same test in
        Chroma: ``rag.store.collection.article_where``)."""
        day = metadata.get("day")
        if (self.since or self.until) and not isinstance(day, int):
            return False
        if self.since and day < day_number(self.since):
            return False
        if self.until and day > day_number(self.until):
            return False
        return not self.outlets or metadata.get("outlet_key") in {outlet_key(o) for o in self.outlets}

    def describe(self) -> str:
        """For messages: "from Tolo News, 2025-02-01 to 2025-02-28"."""
        parts = []
        if self.outlets:
            parts.append("from " + ", ".join(self.outlets))
        if self.since or self.until:
            parts.append(f"{self.since or '…'} to {self.until or '…'}")
        return ", ".join(parts) or "all articles"


def asks_for_recent(question: str) -> bool:
    """Whether the question wants the newest news ("latest", "most recent", "this week", ...)."""
    return bool(_RECENT.search(question))


def shown_date(iso: str | None) -> str | None:
    """``2025-02-11`` as people read it in an answer: ``11 Feb 2025``."""
    if not iso:
        return None
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


def _date(value: object, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise InvalidQuestion(f"{name} must be a date like 2025-02-11")
    day = parse_date(value.strip())
    if day is None:
        raise InvalidQuestion(f"{name} {value[:40]!r} is not a date; write it like 2025-02-11")
    return day
