"""What the best-ranked sentences tell about a question: features for the fitted answer model.

For the few sentences the reranker put first, ``gather`` parses the question and the sentences
once (``rag.nlp``) and describes:

- each candidate short answer (``rag.spans``);
- each sentence: its retrieval scores, how much of the question's names, numbers and words its
  passage holds, and (added by the model) how good its best candidate is;
- the question as a whole (``answerable_features``): how well the best sentence and its passage
  cover the question, its words weighed by how rare they are in the indexed articles (BM25's idf),
  whether one of the two is negated and the other not, the margin over the runner-up, the class
  of question.

Everything here is general: a question about any topic is described by the same features.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from spacy.tokens import Doc

from rag.conversation import Query
from rag.multilingual import foreign_script
from rag.nlp import Parser
from rag.question import Question, analyse, is_negated
from rag.rerank import Scored, Sentence
from rag.spans import Candidate, describe
from rag.text import terms

Rarity = Callable[[Iterable[str]], Mapping[str, float]]  # words -> how rare in the articles (0..1]


@dataclass(frozen=True)
class SentenceEvidence:
    scored: Scored
    rank: int
    features: dict[str, float]
    spans: list[tuple[Candidate, dict[str, float]]]


@dataclass(frozen=True)
class Evidence:
    question: Question
    sentences: list[SentenceEvidence]


def gather(parser: Parser, query: Query, scored: list[Scored], depth: int, rarity: Rarity | None = None) -> Evidence:
    """Features of the question and of its ``depth`` best-ranked sentences.

    ``rarity`` (``Searcher.rarity``) weighs the question's words by how rare they are in the articles;
    without it every word weighs the same.
    """
    top = scored[:depth]
    docs = parser.parse([query.standalone, *(s.sentence.text for s in top)])
    question = analyse(docs[0], rarity)
    sentences = []
    for rank, (item, doc) in enumerate(zip(top, docs[1:], strict=True)):
        spans = describe(question, doc)
        sentences.append(SentenceEvidence(item, rank, sentence_features(question, item, rank, doc), spans))
    return Evidence(question, sentences)


def sentence_features(question: Question, item: Scored, rank: int, doc: Doc) -> dict[str, float]:
    sentence = item.sentence
    passage = sentence.chunk.page_content
    features = {
        "score": item.score,
        "meaning": item.meaning,
        "wording": item.wording,
        "rank": math.log1p(rank),
        "terms_in_sentence": _share(question.terms, set(terms(sentence.in_context))),
        "terms_in_passage": _share(question.terms, set(terms(passage))),
        "names_in_sentence": _contained(question.names, sentence.in_context),
        "names_in_passage": _contained(question.names, passage),
        "numbers_in_passage": _contained(question.numbers, passage),
        "leans_on_previous": float(bool(sentence.lead)),
        "entities": math.log1p(len(doc.ents)),
        "negated": float(is_negated(doc)),
    }
    return features


def answerable_features(question: Question, ranked: list[tuple[SentenceEvidence, float, float]]) -> dict[str, float]:
    """Features of the question given its sentences ordered by P(holds the answer), with their best span."""
    best, p_best, span_best = ranked[0]
    p_next = ranked[1][1] if len(ranked) > 1 else 0.0
    missing = len(question.terms) * (1 - best.features["terms_in_passage"])
    features = {
        "p_sentence": p_best,
        "margin": p_best - p_next,
        "p_span": span_best,
        "score": best.scored.score,
        "meaning": best.scored.meaning,
        "wording": best.scored.wording,
        "missing_terms": math.log1p(missing),
        "no_names": float(not question.names),
        f"wh:{question.wh}": 1.0,
        # A question negated where its best sentence is not (or the reverse) asks something it does not say.
        "negation_mismatch": float(question.negated != bool(best.features.get("negated"))),
    }
    features |= _rare_missing(question, best.scored.sentence)
    for name in ("terms_in_sentence", "terms_in_passage", "names_in_sentence", "names_in_passage"):
        features[name] = best.features[name]
    features["numbers_in_passage"] = best.features["numbers_in_passage"]
    if foreign_script(question.text) != foreign_script(best.scored.sentence.text):
        # Asked in one script, answered in another (a Hindi question, English articles): shared words
        # cannot be counted, so only the meaning scores speak; the model learns how far to trust them.
        features["other_script"] = 1.0
        features["other_script×meaning"] = best.scored.meaning
    return features


def _rare_missing(question: Question, sentence: Sentence) -> dict[str, float]:
    """How much of the question, weighed by rarity, its best sentence and passage lack.

    An unanswerable question that looks answerable usually differs from the text by one word (a
    swapped name, "smallest" for "largest"): a rare word missing says more than several common ones.
    """
    if not question.terms:
        return {}
    total = sum(question.weight(t) for t in question.terms)
    features = {}
    for where, text in (("sentence", sentence.in_context), ("passage", sentence.chunk.page_content)):
        present = set(terms(text))
        missing = [question.weight(t) for t in question.terms if t not in present]
        features[f"rare_missing_in_{where}"] = sum(missing) / total
        features[f"rarest_missing_in_{where}"] = max(missing, default=0.0)
    return features


def _share(wanted: frozenset[str], found: set[str]) -> float:
    return len(wanted & found) / len(wanted) if wanted else 1.0


def _contained(needles: tuple[str, ...], text: str) -> float:
    if not needles:
        return 1.0
    lowered = text.lower()
    return sum(n.lower() in lowered for n in needles) / len(needles)
