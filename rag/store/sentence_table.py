"""The sentence layer of a local index: rows in SQLite, vectors in the memory-mapped sentence matrix.

Every sentence is a search document of its own, five times as many as the chunks. In Chroma each
costs about 0.5 ms to write whatever its metadata (a fifth of a cold ingest on real news, a third
at 1 000 articles), so on one machine sentences live here instead: a SQLite table of
``(id, key, path, text, metadata)`` and the :class:`~rag.vectorfile.VectorFile` the answerer
already reads sentence vectors from, keyed by a hash of the text. A search is exact (one pass over
the mapped matrix), so there is no graph to build on write.

It is a LangChain :class:`VectorStore`, so ``index()`` with its record manager, ``as_retriever()``
and the rest of ``rag.store`` use it as they use a Chroma collection; :meth:`get` answers the part
of Chroma's ``get`` the store calls (ids, a ``where``, ``limit``/``offset``, ``include``). On a
Chroma server, shared by several machines, sentences stay a Chroma collection.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from rag.store.sql import in_parts, marks
from rag.vectorfile import KEY, VectorFile, text_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS sentences (
    id TEXT PRIMARY KEY, key INTEGER NOT NULL, path TEXT NOT NULL, document TEXT NOT NULL, metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_key ON sentences (key);
CREATE INDEX IF NOT EXISTS sentences_path ON sentences (path);
"""
FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
COMPARE = {"$eq": "=", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


class SentenceTable(VectorStore):
    """Sentences of one index in the SQLite file ``db``; their vectors in ``matrix()``.

    ``matrix`` is called on every use, so a store that reopened its matrix after another process's
    writes is followed. Vectors ``add_texts`` receives that the matrix lacks are written to a new
    segment of it; an ingest stores them there first, so its adds write rows only.
    """

    def __init__(self, db: Path, matrix: Callable[[], VectorFile], embedding: Embeddings):
        self.db = db
        self.matrix = matrix
        self.embedding = embedding
        self._lock = threading.Lock()  # one connection, shared by a server's request threads
        db.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self._connection.executescript(SCHEMA)

    @property
    def embeddings(self) -> Embeddings:
        return self.embedding

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def _sql(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """All the statements inside, or none (a failed commit, e.g. a full disk, is rolled back too)."""
        with self._sql() as sql:
            sql.execute("BEGIN")
            try:
                yield sql
                sql.execute("COMMIT")
            except BaseException:
                if sql.in_transaction:  # SQLite may have rolled back already
                    sql.execute("ROLLBACK")
                raise

    # Writing.

    def add_texts(
        self, texts: Iterable[str], metadatas: list[dict] | None = None, *, ids: list[str] | None = None, **_: Any
    ) -> list[str]:
        """Store sentences (a row replaces the row with its id), their vectors first."""
        texts = list(texts)
        metadatas = metadatas or [{} for _ in texts]
        if ids is None:
            raise ValueError("sentences need ids: they are kept in step with a record manager")
        keys = [text_key(text) for text in texts]
        self._store_vectors(texts, keys)
        rows = [
            (id_, _signed(key), meta.get("path", ""), text, json.dumps(meta, ensure_ascii=False))
            for id_, key, text, meta in zip(ids, keys, texts, metadatas, strict=True)
        ]
        with self._transaction() as sql:
            sql.executemany("INSERT OR REPLACE INTO sentences VALUES (?, ?, ?, ?, ?)", rows)
        return list(ids)

    def _store_vectors(self, texts: list[str], keys: list[int]) -> None:
        matrix = self.matrix()
        missing = {key: text for key, text, held in zip(keys, texts, matrix.has(keys), strict=True) if not held}
        if not missing:
            return
        vectors = np.asarray(self.embedding.embed_documents(list(missing.values())), np.float32)
        with matrix.writer() as writer:
            writer.add(list(missing), vectors)
        matrix.load()

    def restore_vectors(self) -> int:
        """Embed again the sentences whose vectors the matrix lost (its folder deleted); returns how many."""
        with self._sql() as sql:
            keys = _keys(sql.execute("SELECT key FROM sentences"))
        lost = np.unique(keys[~self.matrix().has(keys)])
        texts: dict[int, str] = {}
        with self._sql() as sql:
            for part in in_parts([_signed(int(key)) for key in lost]):
                query = f"SELECT key, document FROM sentences WHERE key IN ({marks(part)})"
                texts.update((_unsigned(key), text) for key, text in sql.execute(query, part))
        self._store_vectors(list(texts.values()), list(texts))
        return len(texts)

    def delete(self, ids: list[str] | None = None, **_: Any) -> bool:
        """Remove these rows. Their vectors stay in the matrix: a text's vector never changes, so a
        sentence that comes back costs nothing, and one that does not costs only disk space."""
        if not ids:
            return True
        with self._transaction() as sql:
            for part in in_parts(ids):
                sql.execute(f"DELETE FROM sentences WHERE id IN ({marks(part)})", part)
        return True

    # Reading.

    def count(self) -> int:
        with self._sql() as sql:
            return sql.execute("SELECT count(*) FROM sentences").fetchone()[0]

    def get(
        self,
        ids: Sequence[str] | None = None,
        where: dict | None = None,
        limit: int | None = None,
        offset: int | None = None,
        include: Sequence[str] = ("documents", "metadatas"),
    ) -> dict[str, list]:
        """Rows as Chroma's ``get`` returns them: ``{"ids": [...], "documents": [...], ...}``, in the
        order they were first written (a stable order for paging)."""
        condition, values = _where(where)
        rows: list[tuple] = []
        with self._sql() as sql:
            for part in in_parts(ids) if ids is not None else [None]:
                clauses = [condition] + ([f"id IN ({marks(part)})"] if part is not None else [])
                query = (
                    f"SELECT id, key, document, metadata FROM sentences WHERE {' AND '.join(clauses)} ORDER BY rowid"
                )
                if ids is None and (limit is not None or offset):
                    query += f" LIMIT {int(limit if limit is not None else -1)} OFFSET {int(offset or 0)}"
                rows += sql.execute(query, [*values, *(part or [])]).fetchall()
        found: dict[str, list] = {"ids": [row[0] for row in rows]}
        if "documents" in include:
            found["documents"] = [row[2] for row in rows]
        if "metadatas" in include:
            found["metadatas"] = [json.loads(row[3]) for row in rows]
        if "embeddings" in include:  # None for a vector the matrix lost (see restore_vectors)
            vectors = self.matrix().get(_unsigned(row[1]) for row in rows)
            found["embeddings"] = [vectors.get(_unsigned(row[1])) for row in rows]
        return found

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        found = self.get(ids=ids)
        return [
            Document(page_content=text, metadata=meta, id=id_)
            for id_, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]

    def similarity_search(self, query: str, k: int = 4, filter: dict | None = None, **_: Any) -> list[Document]:
        return [document for document, _ in self.similarity_search_with_score(query, k, filter)]

    def similarity_search_with_score(
        self,
        query: str,
        k: int = 4,
        filter: dict | None = None,
        **_: Any,
    ) -> list[tuple[Document, float]]:
        """The ``k`` rows nearest ``query`` among those ``filter`` (a Chroma ``where``) allows, with
        their cosine distance (1 − cosine), as a Chroma collection with ``hnsw:space=cosine`` reports."""
        return self.nearest(np.asarray(self.embedding.embed_query(query), np.float32), k, filter)

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict | None = None,
        **_: Any,
    ) -> list[Document]:
        return [document for document, _ in self.nearest(np.asarray(embedding, np.float32), k, filter)]

    def nearest(self, query: np.ndarray, k: int, where: dict | None = None) -> list[tuple[Document, float]]:
        """Exact nearest rows: every vector scored, then rows read for the best keys until ``k`` are
        found (a key whose sentences left the index, or that the filter rules out, is passed over)."""
        if k <= 0:
            return []
        keys, scores = self.matrix().similarities(query / max(float(np.linalg.norm(query)), 1e-12))
        if where is not None:  # only rows the filter allows: their keys, read once
            condition, values = _where(where)
            with self._sql() as sql:
                allowed = _keys(sql.execute(f"SELECT key FROM sentences WHERE {condition}", values))
            keep = np.isin(keys, allowed)
            keys, scores = keys[keep], scores[keep]
        found: list[tuple[Document, float]] = []
        seen: set[int] = set()
        wanted = min(len(scores), max(4 * k, 64))
        while wanted:
            best = np.argpartition(-scores, wanted - 1)[:wanted] if wanted < len(scores) else np.arange(len(scores))
            score = {int(keys[i]): float(scores[i]) for i in best}
            fresh = [key for key in score if key not in seen]
            seen.update(fresh)
            rows = self._rows_with_keys(fresh, where)
            rows.sort(key=lambda row: (-score[row[0]], row[1]))
            found += [(row[2], 1.0 - score[row[0]]) for row in rows]
            if len(found) >= k or wanted == len(scores):
                break
            wanted = min(len(scores), wanted * 4)
        found.sort(key=lambda pair: pair[1])
        return found[:k]

    def _rows_with_keys(self, keys: list[int], where: dict | None) -> list[tuple[int, int, Document]]:
        condition, values = _where(where)
        rows = []
        with self._sql() as sql:
            for part in in_parts([_signed(key) for key in keys]):
                rows += sql.execute(
                    f"SELECT key, rowid, id, document, metadata FROM sentences WHERE key IN ({marks(part)}) "
                    f"AND {condition}",
                    [*part, *values],
                ).fetchall()
        return [
            (_unsigned(key), rowid, Document(page_content=text, metadata=json.loads(meta), id=id_))
            for key, rowid, id_, text, meta in rows
        ]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda distance: 1.0 - distance

    @classmethod
    def from_texts(cls, *_: Any, **__: Any) -> SentenceTable:
        raise NotImplementedError("open a SentenceTable on its file, then add_texts()")


def _where(where: dict | None) -> tuple[str, list]:
    """A Chroma ``where`` (``$and``/``$or``, ``$eq``/``$ne``/``$gt``/``$gte``/``$lt``/``$lte``/``$in``/
    ``$nin``, or a bare value for ``$eq``) as an SQL condition on the rows' metadata, and its values."""
    if not where:
        return "1", []
    if len(where) == 1 and next(iter(where)) in ("$and", "$or"):
        operator, clauses = next(iter(where.items()))
        parts = [_where(clause) for clause in clauses]
        joined = f" {operator[1:].upper()} ".join(f"({condition})" for condition, _ in parts)
        return joined or "1", [value for _, values in parts for value in values]
    conditions, values = [], []
    for field, test in where.items():
        if not FIELD.match(field):
            raise ValueError(f"not a metadata field name: {field!r}")
        column = "path" if field == "path" else f"json_extract(metadata, '$.{field}')"
        operator, operand = next(iter(test.items())) if isinstance(test, dict) else ("$eq", test)
        if operator in ("$in", "$nin"):
            operand = list(operand)
            negate = "NOT " if operator == "$nin" else ""
            conditions.append(f"{column} {negate}IN ({marks(operand)})" if operand else ("1" if negate else "0"))
            values += operand
        elif operator in COMPARE:
            conditions.append(f"{column} {COMPARE[operator]} ?")
            values.append(operand)
        else:
            raise ValueError(f"unsupported where operator {operator!r}")
    return " AND ".join(conditions), values


def _keys(rows: Iterable[tuple[int]]) -> np.ndarray:
    """The keys of ``(key,)`` rows as unsigned 64-bit integers."""
    return np.fromiter((key for (key,) in rows), np.int64).view(KEY)


def _signed(key: int) -> int:
    """A uint64 key as the signed 64-bit integer SQLite stores."""
    return key - (1 << 64) if key >= 1 << 63 else key


def _unsigned(key: int) -> int:
    return key + (1 << 64) if key < 0 else key
