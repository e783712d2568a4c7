"""A BM25 retriever over the indexed sentences: finds exact names and phrases embeddings blur.

"Who is the club's chairman?" must reach "Peter Walsh, the club's chairman, said the stadium
roof ..." although that sentence's meaning is about the stadium roof.

The index is one sparse matrix of term counts (sentences x terms), holding only ids and counts:
a question's scores weigh the few columns its terms name, a millisecond affair at hundreds of
thousands of sentences, and the sentences themselves are fetched from the store only for the best
few.

Building it means splitting every sentence into terms in Python (seconds at 200 000 sentences), so
the built index is saved beside the Chroma data and loaded by the next process as long as the
indexed sentences are the same: their ids are hashes of their content, so the sorted ids name
exactly what an index was built from. When they differ, the saved index is brought up to date:
only the sentences added since are read, and those removed dropped.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from functools import cached_property
from pathlib import Path

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict
from scipy import sparse

from rag.text import terms

K1, B = 1.5, 0.75  # Okapi BM25's usual term-frequency saturation and length normalisation
FETCH = 5_000  # sentences read per call when updating an index
FORMAT = "bm25-counts-1"  # what a saved index holds; an index saved in another form is built again


class BM25Index:
    """Okapi BM25 scores of every sentence for a list of query terms.

    It holds term counts, not BM25 weights: a question's few columns are weighed when it is asked,
    so sentences can be added and removed (:meth:`changed`) without touching the other rows, whose
    weights move with every new sentence (the collection's size, each term's frequency and the
    average length all change).
    """

    def __init__(self, rows: Iterable[tuple[str, str]], vocabulary: dict[str, int] | None = None):
        """Index ``(id, text)`` rows (the texts are not kept), numbering new terms after ``vocabulary``'s."""
        self.ids: list[str] = []
        self.vocabulary: dict[str, int] = dict(vocabulary or {})
        row_of, column_of, counts, lengths = array("i"), array("i"), array("f"), array("f")
        for id_, text in rows:
            bag = Counter(terms(text))
            for term, count in bag.items():
                row_of.append(len(self.ids))
                column_of.append(self.vocabulary.setdefault(term, len(self.vocabulary)))
                counts.append(count)
            lengths.append(sum(bag.values()))
            self.ids.append(id_)
        rows_, columns = np.frombuffer(row_of, np.int32), np.frombuffer(column_of, np.int32)
        shape = (len(self.ids), len(self.vocabulary))
        self.matrix = sparse.csc_matrix((np.frombuffer(counts, np.float32), (rows_, columns)), shape=shape)
        self.lengths = np.frombuffer(lengths, np.float32).copy()

    def __len__(self) -> int:
        return len(self.ids)

    def changed(self, added: Iterable[tuple[str, str]], removed: Collection[str]) -> BM25Index:
        """A new index without the ``removed`` ids and with the ``added`` ``(id, text)`` rows.

        Scores the same as one built from scratch over the same sentences; only the added texts are
        read and split into terms (4 s of adding 64 articles to a 10 000-article index went to
        rebuilding every row). This index is left as it was, for searches still using it.
        """
        fresh = BM25Index(added, self.vocabulary)
        keep = np.fromiter((id_ not in removed for id_ in self.ids), bool, len(self.ids))
        kept = self.matrix[keep] if not keep.all() else self.matrix
        width = len(fresh.vocabulary)
        kept = sparse.csc_matrix(
            (kept.data, kept.indices, np.pad(kept.indptr, (0, width - kept.shape[1]), mode="edge")),
            shape=(kept.shape[0], width),
        )
        index = BM25Index.__new__(BM25Index)
        index.ids = [id_ for id_, kept_row in zip(self.ids, keep, strict=True) if kept_row] + fresh.ids
        index.vocabulary = fresh.vocabulary
        index.matrix = sparse.vstack([kept, fresh.matrix], format="csc")
        index.lengths = np.concatenate([self.lengths[keep], fresh.lengths])
        return index

    def scores(self, columns: list[int]) -> np.ndarray:
        """Every sentence's BM25 score for the query terms in these columns (a repeated term counts twice)."""
        m, n = self.matrix, len(self.ids)
        scores = np.zeros(n)
        if not n:
            return scores
        average = max(float(self.lengths.mean()), 1e-9)
        for column in columns:
            rows = m.indices[m.indptr[column] : m.indptr[column + 1]]
            tf = m.data[m.indptr[column] : m.indptr[column + 1]].astype(np.float64)
            idf = np.log1p((n - len(rows) + 0.5) / (len(rows) + 0.5))
            norm = K1 * (1 - B + B * self.lengths[rows] / average)
            scores[rows] += idf * tf * (K1 + 1) / (tf + norm)
        return scores

    def rarity(self, words: Iterable[str]) -> dict[str, float]:
        """How rare each (folded) word is among the indexed sentences: its BM25 idf over the highest
        possible, so 1.0 for a word no sentence has and near 0 for one nearly every sentence has.

        The answerer weighs a question's words by it: a rare word missing from the best passage
        (a swapped name, "smallest" for "largest") says far more than a common one.
        """
        n = len(self.ids)
        ceiling = float(np.log1p((n + 0.5) / 0.5))
        frequency = np.diff(self.matrix.indptr)  # sentences holding each term: one entry per (sentence, term)
        found = {}
        for word in words:
            column = self.vocabulary.get(word)
            count = int(frequency[column]) if column is not None else 0
            found[word] = float(np.log1p((n - count + 0.5) / (count + 0.5))) / ceiling
        return found

    def save(self, path: Path, fingerprint: str) -> bool:
        """Write the index for :meth:`load`, atomically (a reader never sees half a file).

        It is a cache: when it cannot be written (a read-only data folder, a full disk), the next
        process builds the index again; False says so.
        """
        m = self.matrix
        partial: Path | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".partial", delete=False) as out:
                partial = Path(out.name)
                np.savez(
                    out,
                    data=m.data,
                    indices=m.indices,
                    indptr=m.indptr,
                    shape=np.array(m.shape),
                    lengths=self.lengths,
                    ids=_joined(self.ids),
                    vocabulary=_joined(self.vocabulary),
                    fingerprint=_joined([fingerprint]),
                    format=_joined([FORMAT]),
                )
            os.replace(partial, path)  # each writer has its own partial file: the last one wins whole
        except OSError:
            if partial is not None:
                partial.unlink(missing_ok=True)
            return False
        return True

    @classmethod
    def load(cls, path: Path, fingerprint: str | None) -> BM25Index | None:
        """The index saved at ``path`` if it was built from the sentences ``fingerprint`` names (from
        any sentences if None: a start for :meth:`changed`), else None."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                if _split(saved["format"]) != [FORMAT]:
                    return None
                if fingerprint is not None and _split(saved["fingerprint"]) != [fingerprint]:
                    return None
                index = cls.__new__(cls)
                index.ids = _split(saved["ids"])
                index.vocabulary = {term: i for i, term in enumerate(_split(saved["vocabulary"]))}
                shape = tuple(int(x) for x in saved["shape"])
                index.matrix = sparse.csc_matrix((saved["data"], saved["indices"], saved["indptr"]), shape=shape)
                index.lengths = saved["lengths"]
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # none yet, or damaged: build again
            return None
        if len(index.ids) != shape[0] or len(index.vocabulary) != shape[1] or len(index.lengths) != shape[0]:
            return None
        return index

    def top(self, query_terms: list[str], k: int, only: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(id, score)`` with a score above zero, best first; among ``only`` ids if given."""
        columns = [self.vocabulary[t] for t in query_terms if t in self.vocabulary]
        if not columns or not self.ids or k <= 0:
            return []
        scores = self.scores(columns)
        if only is not None:  # a filter (dates, outlets): every other sentence scores nothing
            allowed = np.zeros(len(scores), dtype=bool)
            allowed[[row for id_ in only if (row := self.row_of.get(id_)) is not None]] = True
            scores = np.where(allowed, scores, 0.0)
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in best if scores[i] > 0]

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Row of each sentence id (built on the first filtered search)."""
        return {id_: row for row, id_ in enumerate(self.ids)}

    def nbytes(self) -> int:
        """Memory held by the matrix (the ids and vocabulary come on top)."""
        m = self.matrix
        return m.data.nbytes + m.indices.nbytes + m.indptr.nbytes + self.lengths.nbytes


def fingerprint(ids: Iterable[str]) -> str:
    """Names a set of sentences by their (content-hash) ids, whatever order they are read in."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def _joined(texts: Iterable[str]) -> np.ndarray:
    return np.frombuffer("\n".join(texts).encode(), dtype=np.uint8)


def _split(stored: np.ndarray) -> list[str]:
    text = stored.tobytes().decode()
    return text.split("\n") if text else []


class LexicalRetriever(BaseRetriever):
    """BM25 over the indexed sentences, using the same word folding as answer scoring."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    index: BM25Index
    fetch: Callable[[list[str]], list[Document]]  # ids -> documents, in that order
    k: int = 8
    only: frozenset[str] | None = None  # the ids a filter allows (``ArticleFilter``); None: every sentence

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        best = self.index.top(terms(query), self.k, self.only)
        return self.fetch([id_ for id_, _ in best]) if best else []


class FreshLexical:
    """The :class:`LexicalRetriever` kept in step with the index, even when another process wrote it.

    Each use compares the index's generation marker with the one the retriever was built at. After
    a write the retriever is kept if the sentences are still the same (their fingerprint), else the
    index is loaded from ``path`` if a process already built it for them, else the index at hand (or
    the one saved) is updated with the sentences added and removed since, and saved.
    Use :meth:`current` while holding the store's read lock, so the sentences it reads belong to
    one generation.
    """

    def __init__(
        self,
        path: Path,
        *,
        generation: Callable[[], str | None],
        ids: Callable[[], Iterable[str]],
        rows: Callable[[], Iterable[tuple[str, str]]],
        fetch: Callable[[list[str]], list[Document]],
        k: int,
    ):
        """``generation``: the index's marker now; ``ids``/``rows``: every sentence's id / (id, text);
        ``fetch``: ids -> documents; ``k``: sentences per search."""
        self.path, self.generation, self.ids, self.rows, self.fetch, self.k = path, generation, ids, rows, fetch, k
        self._built: tuple[str | None, str, LexicalRetriever] | None = None  # (generation, fingerprint, retriever)
        self._lock = threading.Lock()

    def current(self) -> LexicalRetriever:
        """The retriever for the index as it is now, rebuilt only when its sentences changed."""
        built = self._built
        if built is not None and built[0] == self.generation():
            return built[2]
        with self._lock:  # one thread builds; the others wait for it rather than build it too
            return self._follow()

    def _follow(self) -> LexicalRetriever:
        built, generation = self._built, self.generation()
        if built is not None and built[0] == generation:
            return built[2]
        now = list(self.ids())
        mark = fingerprint(now)
        if built is None or built[1] != mark:
            index = BM25Index.load(self.path, mark)
            if index is None:
                index = self._updated(built[2].index if built else BM25Index.load(self.path, None), now)
                index.save(self.path, mark)
            retriever = LexicalRetriever(index=index, fetch=self.fetch, k=self.k)
        else:
            retriever = built[2]
        self._built = (generation, mark, retriever)
        return retriever

    def _updated(self, base: BM25Index | None, now: list[str]) -> BM25Index:
        """``base`` with the sentences indexed since added and those gone removed; built from every
        sentence when there is no base, or when most of it changed (one pass beats many look-ups)."""
        if base is None:
            return BM25Index(self.rows())
        held, wanted = set(base.ids), set(now)
        added = [id_ for id_ in now if id_ not in held]
        if len(added) > len(now) / 2:
            return BM25Index(self.rows())
        texts = [
            (document.id, document.page_content)
            for first in range(0, len(added), FETCH)
            for document in self.fetch(added[first : first + FETCH])
        ]
        if len(texts) != len(added):  # a sentence went missing between the two reads: read them all
            return BM25Index(self.rows())
        return base.changed(texts, held - wanted)
