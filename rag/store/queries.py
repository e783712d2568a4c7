"""What callers ask the store, in their own terms: by article filter, source, path or text.

Each method translates its typed arguments into a Chroma ``where`` (``rag.store.collection``); the
callers hold ``reading()`` or ``writing()`` around them as the index's sharing requires.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.documents import Document
from langchain_core.vectorstores import VectorStoreRetriever

from rag.chunking import sentences_with_leads
from rag.filters import ArticleFilter
from rag.store.client import collection_count
from rag.store.collection import all_ids, article_where, field_where, pages, row_pages
from rag.vectorfile import KEY, text_key

if TYPE_CHECKING:
    from langchain_chroma import Chroma

    from rag.store.fingerprints import FileFingerprints
    from rag.store.sentence_table import SentenceTable
    from rag.vectorfile import VectorFile


class Queries:
    """The reads and deletes of :class:`~rag.store.Store` (mixed into it)."""

    vectors: Chroma
    sentence_vectors: Chroma | SentenceTable
    sentence_matrix: VectorFile
    unfinished_writes: Callable[[], AbstractContextManager[None]]  # from RecordKeeping
    fingerprints: FileFingerprints | None

    def count(self) -> int:
        """Chunks in the index, without loading the embedding model."""
        with self.guarded():
            return self._held(self.names[0])

    # Chunks and articles.

    def chunk_metadata(self) -> Iterator[dict]:
        """The metadata of every indexed chunk, a page at a time."""
        return (meta for _, meta in pages(self.vectors, "metadatas"))

    def chunks_per_path(self) -> Counter[str]:
        """How many chunks each indexed file has, keyed by its resolved path.

        Counted from this machine's records when they hold as many chunks as the collection (20 ms
        at 10 000 articles, against 2 s to read every chunk's metadata); from the collection on a
        Chroma server, which other machines write to, or when the records were lost.
        """
        if not self.settings.chroma_url and self.records.count() == self.count():
            return Counter(self.records.group_counts())
        return Counter(meta["path"] for meta in self.chunk_metadata())

    def chunk_retriever(self, k: int, filters: ArticleFilter) -> VectorStoreRetriever:
        """The ``k`` chunks nearest a query, among the articles ``filters`` allows."""
        return self.vectors.as_retriever(search_kwargs=_search(k, filters))

    def first_chunks(self, limit: int) -> list[str]:
        """The texts of the first chunk (title and opening) of up to ``limit`` articles."""
        return self.vectors.get(where=field_where(chunk=0), limit=limit, include=["documents"])["documents"]

    def chunk_text(self, source: str, chunk: int) -> str | None:
        """The text of chunk number ``chunk`` of the file named ``source``; None when there is none."""
        found = self.vectors.get(where=field_where(source=source, chunk=chunk), include=["documents"])
        return found["documents"][0] if found["documents"] else None

    def source_metadata(self, source: str, limit: int | None = None) -> list[dict]:
        """The metadata of the chunks of the file(s) named ``source`` (at most ``limit``)."""
        return self.vectors.get(where=field_where(source=source), limit=limit, include=["metadatas"])["metadatas"]

    def path_metadata(self, paths: Iterable[str]) -> list[dict]:
        """The metadata of the chunks of these indexed files."""
        return self.vectors.get(where=field_where(path=paths), include=["metadatas"])["metadatas"]

    def hash_metadata(self, digests: list[str]) -> list[dict]:
        """The metadata of the chunks of files whose text has one of these digests (``file_hash``)."""
        found: list[dict] = []
        for first in range(0, len(digests), 1000):
            where = field_where(file_hash=digests[first : first + 1000])
            found += self.vectors.get(where=where, include=["metadatas"])["metadatas"]
        return found

    def sources_containing(self, text: str) -> list[str]:
        """The file names of the indexed chunks whose text contains ``text`` verbatim, sorted."""
        found = self.vectors.get(where_document={"$contains": text}, include=["metadatas"])
        return sorted({meta["source"] for meta in found["metadatas"]})

    # Sentences.

    def sentence_retriever(self, k: int, filters: ArticleFilter) -> VectorStoreRetriever:
        """The ``k`` sentences nearest a query, among the articles ``filters`` allows."""
        return self.sentence_vectors.as_retriever(search_kwargs=_search(k, filters))

    def sentence_ids(self, filters: ArticleFilter | None = None) -> list[str]:
        """The ids of the indexed sentences (of the articles ``filters`` allows)."""
        where = article_where(filters) if filters else None
        if where is None:
            return all_ids(self.sentence_vectors)
        return self.sentence_vectors.get(where=where, include=[])["ids"]

    def sentence_texts(self) -> Iterator[tuple[str, str]]:
        """``(id, text)`` of every indexed sentence, a page at a time."""
        return pages(self.sentence_vectors, "documents")

    def sentences_by_id(self, ids: list[str]) -> list[Document]:
        """These indexed sentences, in the order asked (ids no longer indexed are left out)."""
        found = self.sentence_vectors.get(ids=ids, include=["documents", "metadatas"])
        by_id = {
            id_: Document(page_content=text, metadata=meta, id=id_)
            for id_, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def sentence_vectors_of(self, documents: list[Document]) -> dict[str, np.ndarray]:
        """The stored vectors of these documents' sentences that read alone (no lead), by text.

        The answerer scores every sentence of the retrieved chunks by its vector; reading them from
        the memory-mapped sentence matrix instead of embedding them again is most of a question's
        cost. Sentences the matrix lacks (an index ingested before it existed, or by another
        machine sharing the Chroma server) are read from Chroma by their files' paths.
        """
        paths: dict[str, set[str]] = {}  # text -> the files it is read from
        for document in documents:
            for text, _, _, lead in sentences_with_leads(document):
                if not lead:
                    paths.setdefault(text, set()).add(document.metadata["path"])
        keys = {text: text_key(text) for text in paths}
        found = self.sentence_matrix.get(keys.values())
        vectors = {text: found[key] for text, key in keys.items() if key in found}
        if missing := sorted({path for text in paths.keys() - vectors.keys() for path in paths[text]}):
            vectors = self.chroma_sentence_vectors(missing) | vectors
        return vectors

    def chroma_sentence_vectors(self, paths: list[str]) -> dict[str, np.ndarray]:
        """The vectors the sentence layer holds for the sentences (no lead) of these files, by text."""
        include = ["documents", "metadatas", "embeddings"]
        found = self.sentence_vectors.get(where=field_where(path=paths), include=include)
        return {
            text: np.asarray(vector)
            for text, meta, vector in zip(found["documents"], found["metadatas"], found["embeddings"], strict=True)
            if not meta.get("lead") and vector is not None  # None: a vector the local matrix lost
        }

    # Writing (inside ``writing()``).

    def fill_sentence_matrix(self) -> int:
        """Bring the sentence vectors to the matrix questions read them from; inside ``writing()``.

        On one machine: move the sentences of an index written before the sentence table out of
        Chroma (once), and embed them again when the matrix folder was lost. On a Chroma server: copy the vectors
        the sentence collection holds when the matrix has none (a server another machine filled).
        Returns the rows written to the matrix.
        """
        if not self.settings.chroma_url:
            moved = self._move_sentences_out_of_chroma()
            if self.sentence_matrix.segments():  # else its folder was lost: the table's texts are embedded again
                return moved
            return moved + self.sentence_vectors.restore_vectors()
        if self.sentence_matrix.segments() or self._held(self.names[1]) == 0:
            return 0
        return self._copy_vectors(self.sentence_vectors)

    def _move_sentences_out_of_chroma(self) -> int:
        name = self.names[1]
        if collection_count(self.client, name) == 0:
            return 0
        old = self._chroma(name)
        copied = self._copy_vectors(old)
        for page in row_pages(old, ["documents", "metadatas"]):
            self.sentence_vectors.add_texts(page["documents"], page["metadatas"], ids=page["ids"])
        self.client.delete_collection(name)  # last: a kill before it moves them again, harmlessly
        return copied

    def _copy_vectors(self, collection: Chroma) -> int:
        """Copy the vectors of a Chroma sentence collection the matrix lacks into it; return how many."""
        with self.sentence_matrix.writer() as writer:
            for page in row_pages(collection, ["documents", "embeddings"]):
                keys = np.array([text_key(t) for t in page["documents"]], KEY)
                lacking = ~self.sentence_matrix.has(keys)
                if lacking.any():
                    writer.add(keys[lacking], np.asarray(page["embeddings"])[lacking])
        self.sentence_matrix.load()
        return len(writer)

    def delete_paths(self, paths: list[str]) -> int:
        """Remove these files from every layer and its record manager; return the chunks removed."""
        removed = []
        with self.unfinished_writes():
            for vectors, records in self.layers() if paths else []:
                ids = vectors.get(where=field_where(path=paths), include=[])["ids"]
                if ids:
                    vectors.delete(ids=ids)
                    records.delete_keys(ids)
                removed.append(len(ids))
            if paths and self.fingerprints is not None:
                self.fingerprints.forget(paths)
        return removed[0] if removed else 0


def _search(k: int, filters: ArticleFilter) -> dict:
    where = article_where(filters)
    return {"k": k, **({"filter": where} if where else {})}
