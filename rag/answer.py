"""retrieve → rerank → **answer**: quote the best-scored sentences verbatim, or abstain.

No language model is needed and no word is invented. The answer is the best sentence the
reranker found, plus up to two more that score nearly as well and say something new; when even
the best scores below ``min_relevance`` the answerer abstains instead of quoting noise.
"""

from __future__ import annotations

from rag.rerank import Reranker, Scored, Sentence, candidates

__all__ = ["ExtractiveAnswerer", "Scored", "Sentence", "candidates"]

MARGIN = 0.1  # further sentences must score this close to the best one
MARGIN_ELSEWHERE = 0.05  # ... and closer still when they come from another article
NEAR_DUPLICATE = 0.9  # cosine above which a second sentence repeats the first


class ExtractiveAnswerer:
    def __init__(self, reranker: Reranker, *, min_relevance: float, max_sentences: int):
        self.reranker = reranker
        self.min_relevance = min_relevance
        self.max_sentences = max_sentences

    def select(self, scored: list[Scored]) -> list[Scored]:
        """The sentences that answer the question, best first; empty when none does."""
        if not scored or scored[0].score < self.min_relevance:
            return []
        best = scored[0]
        chosen = [best]
        for other in scored[1:]:
            if len(chosen) == self.max_sentences or other.score < max(self.min_relevance, best.score - MARGIN):
                break
            elsewhere = other.sentence.path != best.sentence.path
            if elsewhere and other.score < best.score - MARGIN_ELSEWHERE:
                continue
            if all(self.reranker.similarity(other.sentence.text, c.sentence.text) < NEAR_DUPLICATE for c in chosen):
                chosen.append(other)
        return chosen
