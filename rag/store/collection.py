"""Reading a Chroma collection: whole collections a page at a time, and the ``where`` clauses that
typed filters become. Nothing outside ``rag.store`` writes a ``where``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from langchain_chroma import Chroma

from rag.filters import ArticleFilter
from rag.metadata import day_number, outlet_key

PAGE = 5_000  # rows per read when walking a whole collection: memory stays flat
IDS_PAGE = 100_000  # ids alone are small; Chroma re-scans up to the offset per page, so few pages are fast


def pages(vectors: Chroma, field: str) -> Iterator[tuple[str, object]]:
    """``(id, documents|metadatas value)`` of every row, read a page at a time."""
    for found in row_pages(vectors, [field]):
        yield from zip(found["ids"], found[field], strict=True)


def row_pages(vectors: Chroma, include: list[str]) -> Iterator[dict]:
    """Every row, a ``get()`` result of up to ``PAGE`` rows at a time (``include``: the fields read)."""
    offset = 0
    while True:
        found = vectors.get(include=include, limit=PAGE, offset=offset)
        if len(found["ids"]):
            yield found
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


def article_where(filters: ArticleFilter) -> dict | None:
    """The ``where`` of an :class:`ArticleFilter` (dates compare as YYYYMMDD integers); None for no filter.

    The same test as :meth:`ArticleFilter.matches`, run by Chroma.
    """
    clauses: list[dict] = []
    if filters.since:
        clauses.append({"day": {"$gte": day_number(filters.since)}})
    if filters.until:
        clauses.append({"day": {"$lte": day_number(filters.until)}})
    if filters.outlets:
        clauses.append({"outlet_key": {"$in": sorted({outlet_key(o) for o in filters.outlets})}})
    return _all(clauses)


def field_where(**wanted: object) -> dict | None:
    """Rows whose metadata field equals a value, or is one of a list: ``field_where(path=[...], chunk=0)``."""
    return _all([{name: {"$in": list(value)} if _many(value) else value} for name, value in wanted.items()])


def _many(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes)


def _all(clauses: list[dict]) -> dict | None:
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
