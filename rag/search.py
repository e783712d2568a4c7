"""The retrieve → rerank stage: a question's fused passages and its scored candidate sentences.

Retrieval runs under the store's shared lock, so one question reads one edition of the index even
while an ingest runs; the reranker scores every sentence of the best ``rerank_depth`` passages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from functools import cached_property

from langchain_core.documents import Document

from rag.conversation import Query
from rag.errors import EmptyIndex
from rag.filters import ArticleFilter, asks_for_recent
from rag.lexical import FreshLexical
from rag.multilingual import load_multilingual
from rag.rerank import Reranker, Scored, candidates, rerank_documents
from rag.retrieve import fused_retriever, retrieve, uses_bm25
from rag.settings import Settings
from rag.similarity import VectorCache
from rag.store import Store

# The newest candidate article gains this much reranker score, the oldest nothing: a small step, so recency
# decides between near ties and never beats a clearly better sentence.
RECENCY_TIE = 0.05


class Searcher:
    def __init__(self, settings: Settings, store: Store, vectors: VectorCache):
        self.settings = settings
        self.store = store
        self.vectors = vectors

    @cached_property
    def reranker(self) -> Reranker:
        return Reranker(self.vectors, load_multilingual(self.settings.multilingual_model), signals=self.settings.rerank)

    @cached_property
    def bm25(self) -> FreshLexical:
        """BM25 over the indexed sentences, rebuilt (or loaded) whenever the index changed."""
        store = self.store
        return FreshLexical(
            self.settings.data_dir / f"bm25-{self.settings.collection}.npz",
            generation=lambda: store.generation,
            ids=store.sentence_ids,
            rows=store.sentence_texts,
            fetch=store.sentences_by_id,
            k=self.settings.top_sentences,
        )

    def search(self, query: Query, filters: ArticleFilter | None = None) -> tuple[list[Document], list[Scored]]:
        """The fused passages (reranked unless ``rerank`` is off) and the scored sentences, both best first."""
        with self.store.reading():  # one edition of the index, even while an ingest runs
            documents = retrieve(self._retriever(filters or ArticleFilter()), query)
            if not documents and self.store.count() == 0:  # counted only then: off the hot path
                raise EmptyIndex("nothing is indexed yet; run `rag ingest` (defaults to seeds/) first")
            pool = documents[: self.settings.rerank_depth]
            self.vectors.remember(self.store.sentence_vectors_of(pool))
        scored = self.reranker.score(query, candidates(pool))
        if self.settings.recency or asks_for_recent(query.asked):
            scored = newer_wins_ties(scored)
        if self.settings.rerank:
            documents = rerank_documents(documents, scored)
        return documents, scored

    def rarity(self, words: Iterable[str]) -> dict[str, float]:
        """Each word's rarity among the indexed sentences (``BM25Index.rarity``); empty without BM25."""
        if not (uses_bm25(self.settings) and self.settings.top_sentences):
            return {}
        with self.store.reading():
            return self.bm25.current().index.rarity(words)

    def _retriever(self, filters: ArticleFilter):
        """The fused searches, each restricted to the articles ``filters`` allows."""
        settings = self.settings
        chunks = self.store.chunk_retriever(settings.top_k, filters) if settings.top_k else None
        sentences = keywords = None
        if settings.top_sentences:  # a depth of 0 turns the sentence searches off
            sentences = self.store.sentence_retriever(settings.top_sentences, filters)
            keywords = self.bm25.current() if uses_bm25(settings) else None
            if keywords is not None and filters:
                keywords = keywords.model_copy(update={"only": frozenset(self.store.sentence_ids(filters))})
        return fused_retriever(settings, chunks, sentences, keywords)


def newer_wins_ties(scored: list[Scored]) -> list[Scored]:
    """Rescore so that, among sentences scoring about the same, the newer article's comes first."""
    days = sorted({d for s in scored if isinstance(d := s.sentence.chunk.metadata.get("day"), int)})
    if len(days) < 2:
        return scored
    rank = {day: i / (len(days) - 1) for i, day in enumerate(days)}
    bumped = [
        dataclasses.replace(s, score=s.score + RECENCY_TIE * rank.get(s.sentence.chunk.metadata.get("day"), 0.0))
        for s in scored
    ]
    return sorted(bumped, key=lambda s: -s.score)
