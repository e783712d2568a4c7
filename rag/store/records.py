"""The record managers: this machine's SQLite record of which ids each collection holds.

LangChain's ``index()`` reads them to skip what is already indexed and to clean up what a file no
longer has. The collection stays the truth: these helpers rebuild a record from its collection, or
drop what a killed ingest left on one side only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.indexing import index

from rag.store.collection import all_ids, pages
from rag.store.sqlite_records import SQLiteRecordManager

PAGE = 5_000  # keys per call: memory stays flat
MAX_BATCH = 4000  # Chroma refuses larger upserts; only a file with more sentences spans two batches
CHUNKS, SENTENCES = 0, 1  # the layers: each a collection and its record manager


def open_records(name: str, db: Path) -> SQLiteRecordManager:
    """The record manager of collection ``name`` in the SQLite file ``db`` (created if need be)."""
    manager = SQLiteRecordManager(namespace=f"chroma/{name}", db=db)
    manager.create_schema()
    return manager




def rebuild(records: SQLiteRecordManager, rows: Iterable[tuple[str, str]]) -> None:
    """Replace every key of ``records`` with ``rows`` of ``(id, path)``; the path is the key's group."""
    while keys := records.list_keys(limit=PAGE):
        records.delete_keys(keys)
    ids: list[str] = []
    paths: list[str] = []
    for id_, path in rows:
        ids.append(id_)
        paths.append(path)
        if len(ids) == PAGE:
            records.update(ids, group_ids=paths)
            ids, paths = [], []
    if ids:
        records.update(ids, group_ids=paths)


def drop_unmatched(records: SQLiteRecordManager, stored: set[str]) -> tuple[list[str], int]:
    """Make ``records`` and a collection holding the ids ``stored`` agree after a killed ingest.

    Returns the ids the collection holds without a record (for the caller to delete: LangChain's
    cleanup cannot see them) and how many records without a vector were dropped here.
    """
    recorded = set(records.list_keys())
    if ghosts := sorted(recorded - stored):
        records.delete_keys(ghosts)
    return sorted(stored - recorded), len(ghosts)


class RecordKeeping:
    """Syncing documents into a layer through its record manager, and keeping the records in step
    with the collections (mixed into :class:`~rag.store.Store`; writes go inside ``writing()``).

    A layer is :data:`CHUNKS` or :data:`SENTENCES`.
    """

    def recorded(self, layer: int, keys: list[str]) -> list[bool]:
        """Whether each key is recorded in ``layer``."""
        records = self.layers()[layer][1]
        return [found for first in range(0, len(keys), 1000) for found in records.exists(keys[first : first + 1000])]

    def recorded_under(self, layer: int, paths: list[str]) -> set[str]:
        """The keys recorded in ``layer`` for the files at these paths."""
        return set(self.layers()[layer][1].list_keys(group_ids=paths))

    def sync(self, layer: int, documents: list[Document], key: Callable[[Document], str]) -> dict[str, int]:
        """LangChain's ``index()`` of whole files' documents into ``layer``, in one internal batch:
        a file's new documents and the deletion of its old ones are one step (see ``rag.ingest``).
        Returns ``index()``'s counts (``num_added``, ``num_updated``, ``num_skipped``, ``num_deleted``)."""
        vectors, records = self.layers()[layer]
        with self.unfinished_writes():
            return index(
                documents,
                records,
                vectors,
                cleanup="incremental",
                source_id_key="path",
                key_encoder=key,
                batch_size=min(max(len(documents), 1), MAX_BATCH),
            )

    @property
    def unfinished(self) -> Path:
        """A file that exists while a write to the collections and their records may be half done."""
        return self.settings.record_db.with_name(self.settings.record_db.name + ".unfinished")

    @contextmanager
    def unfinished_writes(self) -> Iterator[None]:
        """Mark the index as possibly inconsistent until the writes inside finish.

        A kill (or a failure) in between leaves the mark, and only then does the next ingest pay for
        :meth:`repair`, which reads every id of both collections and their records (seconds at
        10 000 articles: most of re-ingesting an unchanged corpus when it ran every time).
        """
        self.unfinished.parent.mkdir(parents=True, exist_ok=True)
        self.unfinished.touch()
        yield
        self.unfinished.unlink(missing_ok=True)

    def reconcile(self) -> None:
        """Make the records and the collections agree before an ingest writes (inside ``writing()``).

        The collection is the truth when it is shared (a Chroma server other machines write to) or
        when the record file was lost: the records are rebuilt from it, and nothing is embedded again.
        Otherwise the local records are the truth, and what a killed ingest left half-written is
        dropped so the next sync re-adds it (only when the last write did not finish).
        """
        if self.settings.chroma_url or self.records_lost():
            rebuilt = self.reconcile_records()
        elif self.unfinished.exists():  # the last write to this index did not finish
            with self.unfinished_writes():
                rebuilt = self.repair()
        else:
            return
        if rebuilt and self.fingerprints is not None:
            self.fingerprints.clear()  # what they vouch for may be gone: check every file once

    def records_lost(self) -> bool:
        """Whether a layer holds vectors but has no record of them (the record file was deleted)."""
        return any(
            records.count() == 0 < self._held(name)
            for name, (_, records) in zip(self.names, self.layers(), strict=True)
        )

    def reconcile_records(self) -> int:
        """Rebuild a record manager from its collection when their sizes disagree; return how many were.

        Runs before every ingest: a second machine sharing a Chroma server, a server that was reset or
        a deleted record file would otherwise re-embed everything or keep stale chunks forever.
        """
        rebuilt = 0
        for name, (vectors, records) in zip(self.names, self.layers(), strict=True):
            if records.count() != self._held(name):
                rebuild(records, ((id_, meta["path"]) for id_, meta in pages(vectors, "metadatas")))
                rebuilt += 1
        return rebuilt

    def repair(self) -> int:
        """Make Chroma and the records agree again after an ingest was killed half-way.

        LangChain's ``index()`` writes Chroma first and its record second: a kill in between leaves
        vectors with no record (invisible to cleanup: an orphan forever) or, during a delete,
        records with no vector. Both are dropped here, so the next sync re-adds what is still wanted.
        Returns how many entries were dropped.
        """
        dropped = 0
        for vectors, records in self.layers():
            orphans, ghosts = drop_unmatched(records, set(all_ids(vectors)))
            if orphans:
                vectors.delete(ids=orphans)
            dropped += len(orphans) + ghosts
        return dropped
