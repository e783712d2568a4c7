"""store → retrieve: LangChain retrievers over Chroma (chunks, sentences) and BM25, fused."""

from __future__ import annotations

import itertools

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.conversation import Query


def retrieve(retrievers: list[BaseRetriever], query: Query) -> list[Document]:
    """Documents from every retriever for the question and, if different, for its contextual form.

    Results are interleaved rank by rank (best first) with repeats removed.
    """
    queries = list(dict.fromkeys([query.context, query.standalone]))
    runs = [results for retriever in retrievers for results in retriever.batch(queries)]
    ranked: dict[str, Document] = {}
    for rank in itertools.zip_longest(*runs):
        for document in rank:
            if document is not None:
                ranked.setdefault(document.id or document.page_content, document)
    return list(ranked.values())
