"""A BM25 retriever over the indexed sentences: finds exact names and phrases embeddings blur.

"Who is the Taliban's foreign minister?" must reach "Amir Khan Muttaqi, the Taliban's foreign
minister said that ISIS ..." although that sentence's meaning is about ISIS training centres.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr
from rank_bm25 import BM25Okapi

from rag.text import terms


class LexicalRetriever(BaseRetriever):
    """BM25 over a fixed list of documents, using the same word folding as answer scoring."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    documents: list[Document]
    k: int = 8
    _bm25: BM25Okapi | None = PrivateAttr(default=None)

    def model_post_init(self, __context) -> None:
        tokenized = [terms(d.page_content) for d in self.documents]
        self._bm25 = BM25Okapi(tokenized) if any(tokenized) else None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        query_terms = terms(query)
        if self._bm25 is None or not query_terms:
            return []
        scores = self._bm25.get_scores(query_terms)
        best = sorted(range(len(scores)), key=lambda i: -scores[i])[: self.k]
        return [self.documents[i] for i in best if scores[i] > 0]
