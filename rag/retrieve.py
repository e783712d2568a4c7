"""store → **retrieve**: dense and keyword searches fused into one ranked list of passages.

Dense search (chunks and single sentences in Chroma) finds paraphrases; BM25 finds the exact
names and numbers embeddings blur ("Okafor", "1,000"). LangChain's ``EnsembleRetriever`` fuses
them by weighted reciprocal rank: a passage found by both rises above one found by either.
"""

from __future__ import annotations

import itertools

from langchain_classic.retrievers import EnsembleRetriever
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.conversation import Query
from rag.settings import Settings

RRF_C = 60  # the usual constant of reciprocal rank fusion: rank r scores 1 / (r + 60)


def uses_bm25(settings: Settings) -> bool:
    """Whether the settings fuse a BM25 search in (so its index is worth building)."""
    return settings.retriever in ("hybrid", "bm25") and settings.bm25_weight > 0


def fused_retriever(
    settings: Settings, chunks: BaseRetriever | None, sentences: BaseRetriever | None, keywords: BaseRetriever | None
) -> EnsembleRetriever | None:
    """The searches ``settings.retriever`` asks for, with their weights; None when every one is off."""
    dense = settings.retriever in ("hybrid", "dense")
    chosen = [
        (retriever, weight)
        for retriever, weight, wanted in (
            (chunks, settings.dense_weight, dense),
            (sentences, settings.dense_weight, dense),
            (keywords, settings.bm25_weight, uses_bm25(settings)),
        )
        if wanted and retriever is not None and weight > 0
    ]
    if not chosen:
        return None
    return EnsembleRetriever(retrievers=[r for r, _ in chosen], weights=[w for _, w in chosen], c=RRF_C)


def retrieve(retriever: EnsembleRetriever | None, query: Query) -> list[Document]:
    """Passages for the question and, if different, for its contextual form (a follow-up plus the
    last turn), interleaved rank by rank with repeats removed."""
    if retriever is None:
        return []
    queries = list(dict.fromkeys([query.context, query.standalone]))
    runs = retriever.batch(queries)
    ranked: dict[str, Document] = {}
    for rank in itertools.zip_longest(*runs):
        for document in rank:
            if document is not None:
                ranked.setdefault(document.id or document.page_content, document)
    return list(ranked.values())
