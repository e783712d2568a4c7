"""The collections' embedding function: vectors an ingest computed before taking the write lock."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.embeddings import Embeddings


class PrecomputedEmbeddings(Embeddings):
    """Vectors computed before the write lock is taken, else the model's.

    Embedding is the slow part of an ingest; computing it first keeps the time questions wait for
    the lock down to the writes themselves. ``model`` is called only when needed, so opening the
    store does not load the embedding model.
    """

    def __init__(self, model: Callable[[], Embeddings]):
        self.model = model
        self.ready: dict[str, list[float]] = {}

    def precompute(self, texts: list[str], batch: int = 64) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self.ready]
        for first in range(0, len(missing), batch):  # small calls: questions embed in between
            part = missing[first : first + batch]
            self.ready.update(zip(part, self.model().embed_documents(part), strict=True))

    def forget(self) -> None:
        self.ready.clear()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.precompute(texts)
        return [self.ready[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.model().embed_query(text)
