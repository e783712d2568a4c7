"""Helpers for the SQLite tables we write ourselves (sentences, records): long ``IN (...)`` lists in parts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

PARAMS = 900  # bound parameters per statement (SQLite allows 999 on old builds)


def in_parts(items: Iterable) -> Iterator[list]:
    """``items`` in lists short enough to bind in one statement."""
    items = list(items)
    for first in range(0, len(items), PARAMS):
        yield items[first : first + PARAMS]


def marks(items: Sequence) -> str:
    """The ``?, ?, ...`` placeholders for binding ``items``."""
    return ", ".join("?" * len(items))
