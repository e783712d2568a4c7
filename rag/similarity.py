"""Sentence vectors kept across questions, and the similarity of two texts from them.

The reranker scores every candidate sentence by its vector, the answerer drops near-duplicate
sentences and the grounding check compares a generated sentence with its passages: all three read
their vectors here, so a sentence is embedded at most once per process (and not at all when the
index already holds its vector: :meth:`VectorCache.remember`).
"""

from __future__ import annotations

import numpy as np
from langchain_core.embeddings import Embeddings

MAX_CACHED = 50_000  # sentence vectors kept across questions (~150 MB at most)


class VectorCache:
    """Vectors of texts under one or more models, oldest dropped first past ``MAX_CACHED``."""

    def __init__(self, embeddings: Embeddings):
        self.embeddings = embeddings  # the main model; others are passed to :meth:`embed`
        self._vectors: dict[tuple[int, str], np.ndarray] = {}  # (model, text) -> vector

    def remember(self, vectors: dict[str, np.ndarray], model: Embeddings | None = None) -> None:
        """Take sentence vectors the index already holds, so they need not be embedded again."""
        key = id(model or self.embeddings)
        for text, vector in vectors.items():
            self._vectors.setdefault((key, text), vector)
        while len(self._vectors) > MAX_CACHED:  # oldest first: a long-running server stays bounded
            self._vectors.pop(next(iter(self._vectors), None), None)

    def embed(self, texts: list[str], model: Embeddings | None = None) -> np.ndarray:
        """The vectors of ``texts`` (one row each) under ``model`` (default: the main one)."""
        model = model or self.embeddings
        # Read each vector once: another thread may evict it from the cache meanwhile.
        found = {t: self._vectors.get((id(model), t)) for t in dict.fromkeys(texts)}
        missing = [t for t, vector in found.items() if vector is None]
        if missing:
            fresh = dict(zip(missing, map(np.asarray, model.embed_documents(missing)), strict=True))
            self.remember(fresh, model)
            found.update(fresh)
        return np.stack([found[t] for t in texts])

    def similarity(self, a: str, b: str) -> float:
        """Cosine of two texts under the main model (near-duplicate and grounding checks)."""
        first, second = self.embed([a, b])
        return float(first @ second)
