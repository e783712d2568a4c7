"""retrieve → answer: compose an extractive answer from the sentences of the retrieved chunks.

No language model is needed and no word is invented: each candidate sentence is scored by meaning
(cosine between sentence and question embeddings) and by wording (the share of the question's
content words it contains, weighted by rarity), and the best few are quoted verbatim. When even the
best sentence scores below ``min_relevance`` the answerer abstains instead of quoting noise.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.chunking import sentences_of
from rag.text import terms

MEANING_WEIGHT = 0.6  # the rest is wording overlap
MIN_WORDS = 4  # shorter lines are page furniture ("In Love", "0 Comments")
MARGIN = 0.1  # further sentences must score this close to the best one
MARGIN_ELSEWHERE = 0.05  # ... and closer still when they come from another article
NEAR_DUPLICATE = 0.9  # cosine above which a second sentence repeats the first
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_KIND_CUES = {
    "number": (re.compile(r"^\s*how (many|much)\b|\bwhat (number|amount)\b", re.I), re.compile(r"\d")),
    "time": (
        re.compile(r"^\s*when\b|\bwhat (date|day|year|month)\b", re.I),
        re.compile(rf"\b(\d{{4}}|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I),
    ),
    "person": (re.compile(r"^\s*who\b", re.I), re.compile(r"\b[A-Z][a-z]+ (?:[A-Z][a-z'-]+ ?)+")),
    "reason": (
        re.compile(r"^\s*why\b|\bwhat (is|was) the reason\b", re.I),
        re.compile(r"\b(because|due to|requires?|since|in order to|so that|reason|as a result)\b", re.I),
    ),
}
HEADING_PENALTY = 0.1  # a headline, byline or question is rarely an answer
REPEAT_PENALTY = 0.1  # a sentence an earlier answer already quoted
TOPIC_BONUS = 0.05  # a follow-up stays with the article the conversation was about
MIN_HEADING_WORDS = 6  # shorter unpunctuated lines are bylines and captions
KIND_BONUS = 0.05


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence with where it came from; ``text == file[start:end]``."""

    text: str
    source: str
    title: str
    path: str
    start: int
    end: int
    chunk: Document


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    score: float
    meaning: float
    wording: float


class ExtractiveAnswerer:
    def __init__(self, embeddings: Embeddings, *, min_relevance: float, max_sentences: int):
        self.embeddings = embeddings
        self.min_relevance = min_relevance
        self.max_sentences = max_sentences
        self._vectors: dict[str, np.ndarray] = {}  # sentence text -> embedding, reused across questions

    def select(
        self, question: str, documents: list[Document], context: str | None = None, said: str = ""
    ) -> list[Scored]:
        """The sentences that answer ``question``, best first; empty when none does.

        ``context`` is the question with what the conversation so far adds (see ``contextualize``);
        ``said`` is what earlier answers already quoted, which a follow-up should not repeat.
        """
        candidates = _candidates(documents)
        if not candidates:
            return []
        scored = self.score(question, candidates, context, said)
        best = scored[0]
        if best.score < self.min_relevance:
            return []
        chosen = [best]
        for other in scored[1:]:
            if len(chosen) == self.max_sentences or other.score < max(self.min_relevance, best.score - MARGIN):
                break
            elsewhere = other.sentence.path != best.sentence.path
            if elsewhere and other.score < best.score - MARGIN_ELSEWHERE:
                continue
            if all(self._cosine(other.sentence.text, c.sentence.text) < NEAR_DUPLICATE for c in chosen):
                chosen.append(other)
        return chosen

    def score(
        self, question: str, candidates: list[Sentence], context: str | None = None, said: str = ""
    ) -> list[Scored]:
        """Every candidate with its score, best first."""
        vectors = self._embed([c.text for c in candidates])
        meaning = vectors @ np.asarray(self.embeddings.embed_query(question))
        if context and context != question:
            meaning = (meaning + vectors @ np.asarray(self.embeddings.embed_query(context))) / 2
        texts = [c.text for c in candidates]
        wording = _wording(question, texts)
        repeats = [_already_said(t, said) for t in texts]
        topic = {c.path for c, repeated in zip(candidates, repeats, strict=True) if repeated}
        bonus = _kind_bonus(question, texts) + np.array(
            [
                TOPIC_BONUS * (c.path in topic) - REPEAT_PENALTY * repeated - HEADING_PENALTY * _is_heading(c.text)
                for c, repeated in zip(candidates, repeats, strict=True)
            ]
        )
        total = MEANING_WEIGHT * meaning + (1 - MEANING_WEIGHT) * wording + bonus
        ranked = sorted(range(len(candidates)), key=lambda i: -total[i])
        return [Scored(candidates[i], float(total[i]), float(meaning[i]), float(wording[i])) for i in ranked]

    def _embed(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.embeddings.embed_documents(missing), strict=True):
                self._vectors[text] = np.asarray(vector)
        return np.stack([self._vectors[t] for t in texts])

    def _cosine(self, a: str, b: str) -> float:
        return float(self._embed([a])[0] @ self._embed([b])[0])


def _candidates(documents: list[Document]) -> list[Sentence]:
    seen: set[tuple[str, int]] = set()
    result = []
    for document in documents:
        meta = document.metadata
        for text, start, end in sentences_of(document):
            words = len(text.split())
            if (
                (meta["path"], start) in seen
                or words < MIN_WORDS
                or (words < MIN_HEADING_WORDS and _is_heading(text))
                or text == meta["title"]
            ):
                continue
            seen.add((meta["path"], start))
            result.append(Sentence(text, meta["source"], meta["title"], meta["path"], start, end, document))
    return result


def _wording(question: str, texts: list[str]) -> np.ndarray:
    """Share of the question's content words found in each text, rare words counting more."""
    wanted = set(terms(question))
    if not wanted:
        return np.zeros(len(texts))
    bags = [set(terms(t)) for t in texts]
    frequency = Counter(term for bag in bags for term in bag & wanted)
    weight = {t: math.log((len(texts) + 1) / (frequency[t] + 0.5)) for t in wanted}
    total = sum(weight.values())
    return np.array([sum(weight[t] for t in bag & wanted) / total for bag in bags])


def _already_said(text: str, said: str) -> bool:
    """Whether an earlier answer quoted this sentence (its opening words are enough to tell)."""
    return bool(said) and " ".join(text.split()[:8]) in said


def _is_heading(text: str) -> bool:
    return not re.search(r"[.!।][\"'”’)\]]*$", text)


def _kind_bonus(question: str, texts: list[str]) -> np.ndarray:
    """Who/when/how-many questions prefer sentences holding a name, a date, a number."""
    for asks, holds in _KIND_CUES.values():
        if asks.search(question):
            return np.array([KIND_BONUS if holds.search(t) else 0.0 for t in texts])
    return np.zeros(len(texts))
