"""retrieve → rerank → **answer**: a short answer, the sentences that hold it, or an abstention.

No language model is needed and no word is invented. For the sentences the reranker put first,
the fitted answer model (``rag.answer_model``) estimates which holds the answer and which of its
entities, noun phrases or numbers *is* the answer; a third estimate, whether the passages answer
the question at all, decides abstention. The short answer is a verbatim span of the file; the
evidence is one to ``max_sentences`` whole sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer_model import AnswerModel, LinearModel
from rag.conversation import Query
from rag.evidence import Evidence, Rarity, SentenceEvidence, answerable_features, gather
from rag.nlp import Parser
from rag.rerank import Scored
from rag.similarity import VectorCache

__all__ = ["DEPTH", "Decision", "ExtractiveAnswerer", "ShortAnswer", "decide", "sentence_inputs"]

DEPTH = 8  # sentences the answer model reads (the reranker orders all of them)
MARGIN = 0.15  # further evidence sentences must be this close to the best one's probability
NEAR_DUPLICATE = 0.9  # cosine above which a second sentence repeats the first


@dataclass(frozen=True)
class ShortAnswer:
    """The answer itself, a verbatim span of the cited file: ``file[start:end] == text``."""

    text: str
    source: str
    start: int
    end: int


@dataclass(frozen=True)
class Decision:
    """What the answerer concluded: evidence best first (empty: abstain), and how sure it is."""

    chosen: list[Scored]
    short: ShortAnswer | None
    answerable: float  # P(the passages answer the question)
    ranked: list[tuple[SentenceEvidence, float, float]]  # (sentence, P(holds the answer), best span P)


def decide(evidence: Evidence, model: AnswerModel) -> Decision:
    """Apply the model to gathered evidence: pure, so calibration can replay it under other weights."""
    if not evidence.sentences:
        return Decision([], None, 0.0, [])
    ranked = [
        (sentence, model.sentence.probability(features), features["best_span"])
        for sentence, features in zip(evidence.sentences, sentence_inputs(evidence, model.span), strict=True)
    ]
    ranked.sort(key=lambda r: -r[1])
    answerable = model.answerable.probability(answerable_features(evidence.question, ranked))
    if answerable < model.threshold:
        return Decision([], None, answerable, ranked)
    best, p_best, _ = ranked[0]
    chosen = [best.scored] + [s.scored for s, p, _ in ranked[1:] if p >= p_best - MARGIN and p >= 0.5]
    return Decision(chosen, _short_answer(evidence, best, model), answerable, ranked)


def sentence_inputs(evidence: Evidence, span_model: LinearModel) -> list[dict[str, float]]:
    """Each sentence's features, plus its best candidate and its gaps to the question's best sentence.

    The gaps let one model compare sentences of the same question rather than judge each alone.
    """
    rows = [
        s.features | {"best_span": max((span_model.probability(f) for _, f in s.spans), default=0.0)}
        for s in evidence.sentences
    ]
    for name in ("score", "meaning", "wording", "best_span"):
        top = max(row[name] for row in rows)
        for row in rows:
            row[f"{name}_gap"] = row[name] - top
    return rows


def _short_answer(evidence: Evidence, best: SentenceEvidence, model: AnswerModel) -> ShortAnswer | None:
    if not evidence.question.wants_short_answer or not best.spans:
        return None
    chooser = model.chooser()
    candidate, features = max(best.spans, key=lambda pair: chooser.logit(pair[1]))
    if model.span.probability(features) < model.span_threshold:
        return None
    at = best.scored.sentence.start  # candidate offsets are inside the sentence; the file's are wanted
    return ShortAnswer(candidate.text, best.scored.sentence.source, at + candidate.start, at + candidate.end)


class ExtractiveAnswerer:
    def __init__(
        self,
        vectors: VectorCache,
        model: AnswerModel,
        parser: Parser,
        *,
        max_sentences: int,
        rarity: Rarity | None = None,
    ):
        """``rarity``: how rare words are in the indexed articles (``Searcher.rarity``), for the evidence."""
        self.vectors = vectors
        self.model = model
        self.parser = parser
        self.max_sentences = max_sentences
        self.rarity = rarity

    def evidence(self, query: Query, scored: list[Scored]) -> Evidence:
        return gather(self.parser, query, scored, DEPTH, self.rarity)

    def select(self, query: Query, scored: list[Scored]) -> Decision:
        """The evidence sentences (no near-duplicates, at most ``max_sentences``) and the short answer."""
        decision = decide(self.evidence(query, scored), self.model)
        kept: list[Scored] = []
        for item in decision.chosen:
            if len(kept) == self.max_sentences:
                break
            if all(self.vectors.similarity(item.sentence.text, k.sentence.text) < NEAR_DUPLICATE for k in kept):
                kept.append(item)
        return Decision(kept, decision.short, decision.answerable, decision.ranked)
