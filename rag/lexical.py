"""A BM25 retriever over the indexed sentences: finds exact names and phrases embeddings blur.

"Who is the club's chairman?" must reach "Peter Walsh, the club's chairman, said the stadium
roof ..." although that sentence's meaning is about the stadium roof.

The index is one sparse matrix of BM25 weights (sentences x terms), holding only ids and weights:
a question's scores are the sum of the few columns its terms name, a millisecond affair at
hundreds of thousands of sentences, and the sentences themselves are fetched from the store only
for the best few.

Building it means folding every sentence's words in Python (over a minute at 200 000 sentences),
so the built index is saved beside the Chroma data and loaded by the next process, as long as the
indexed sentences are the same: their ids are hashes of their content, so the sorted ids name
exactly what an index was built from.
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


class BM25Index:
    """Okapi BM25 scores of every sentence for a list of query terms."""

    def __init__(self, rows: Iterable[tuple[str, str]]):
        """Index ``(id, text)`` rows; the texts are not kept."""
        self.ids: list[str] = []
        self.vocabulary: dict[str, int] = {}
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
        tf, length = np.frombuffer(counts, np.float32), np.frombuffer(lengths, np.float32)
        n = len(self.ids)
        frequency = np.bincount(columns, minlength=len(self.vocabulary))
        idf = np.log1p((n - frequency + 0.5) / (frequency + 0.5))
        norm = K1 * (1 - B + B * length / max(float(length.mean()) if n else 1.0, 1e-9))
        weights = idf[columns] * tf * (K1 + 1) / (tf + norm[rows_])
        self.matrix = sparse.csc_matrix((weights, (rows_, columns)), shape=(n, len(self.vocabulary)))

    def __len__(self) -> int:
        return len(self.ids)

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
                    ids=_joined(self.ids),
                    vocabulary=_joined(self.vocabulary),
                    fingerprint=_joined([fingerprint]),
                )
            os.replace(partial, path)  # each writer has its own partial file: the last one wins whole
        except OSError:
            if partial is not None:
                partial.unlink(missing_ok=True)
            return False
        return True

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> BM25Index | None:
        """The index saved at ``path`` if it was built from the sentences ``fingerprint`` names, else None."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                if _split(saved["fingerprint"]) != [fingerprint]:
                    return None
                index = cls.__new__(cls)
                index.ids = _split(saved["ids"])
                index.vocabulary = {term: i for i, term in enumerate(_split(saved["vocabulary"]))}
                shape = tuple(int(x) for x in saved["shape"])
                index.matrix = sparse.csc_matrix((saved["data"], saved["indices"], saved["indptr"]), shape=shape)
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # none yet, or damaged: build again
            return None
        if len(index.ids) != shape[0] or len(index.vocabulary) != shape[1]:
            return None
        return index

    def top(self, query_terms: list[str], k: int, only: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(id, score)`` with a score above zero, best first; among ``only`` ids if given."""
        columns = [self.vocabulary[t] for t in query_terms if t in self.vocabulary]
        if not columns or not self.ids or k <= 0:
            return []
        scores = np.asarray(self.matrix[:, columns].sum(axis=1)).ravel()
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
        return m.data.nbytes + m.indices.nbytes + m.indptr.nbytes


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
    index is loaded from ``path`` if a process already built it for them, else built and saved.
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
        mark = fingerprint(self.ids())
        if built is None or built[1] != mark:
            index = BM25Index.load(self.path, mark)
            if index is None:
                index = BM25Index(self.rows())
                index.save(self.path, mark)
            retriever = LexicalRetriever(index=index, fetch=self.fetch, k=self.k)
        else:
            retriever = built[2]
        self._built = (generation, mark, retriever)
        return retriever
