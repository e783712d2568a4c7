"""retrieve → answer: compose an extractive answer from the sentences of the retrieved chunks.

No language model is needed and no word is invented: each candidate sentence is scored by meaning
(cosine between sentence and question embeddings), by wording (the question's content words and
word pairs it contains, rare words counting more) and by what kind of answer the question wants
(``rag.kinds``), and the best few are quoted verbatim. When even the best sentence scores below
``min_relevance`` the answerer abstains instead of quoting noise.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.chunking import sentences_with_leads
from rag.conversation import Query
from rag.kinds import kind_bonus
from rag.text import FULL_NAME, terms

MEANING_WEIGHT = 0.6  # the rest is wording overlap
IMPLIED_WEIGHT = 0.3  # for words the conversation filled in ("he" -> "Suhail Shaheen")
PAIR_BONUS = 0.2  # for containing all the question's word pairs (in order, as phrases)
MIN_WORDS = 4  # shorter lines are page furniture ("In Love", "0 Comments")
MARGIN = 0.1  # further sentences must score this close to the best one
MARGIN_ELSEWHERE = 0.05  # ... and closer still when they come from another article
NEAR_DUPLICATE = 0.9  # cosine above which a second sentence repeats the first
HEADING_PENALTY = 0.1  # a headline, byline or question is rarely an answer
REPEAT_PENALTY = 0.2  # a sentence an earlier answer already quoted
TOPIC_BONUS = 0.1  # a follow-up stays with the article the conversation was about
MIN_HEADING_WORDS = 6  # shorter unpunctuated lines are bylines and captions


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
    lead: str = ""  # the sentence before, when this one opens with "He", "They", ...

    @property
    def in_context(self) -> str:
        """What the sentence means to a reader: "He said ..." with who "he" is just before."""
        return f"{self.lead} {self.text}" if self.lead else self.text


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

    def select(self, query: Query, documents: list[Document]) -> list[Scored]:
        """The sentences that answer ``query``, best first; empty when none does."""
        sentences = candidates(documents)
        return self.choose(self.score(query, sentences)) if sentences else []

    def choose(self, scored: list[Scored]) -> list[Scored]:
        """The best of ``scored`` (as ranked by :meth:`score`) worth quoting; empty when none is relevant."""
        if not scored:
            return []
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

    def score(self, query: Query, candidates: list[Sentence]) -> list[Scored]:
        """Every candidate with its score, best first.

        Meaning is matched against the question as resolved by the conversation, wording against
        the user's own words: a name the conversation filled in must not outweigh what was asked.
        """
        question = query.asked
        vectors = self._embed([c.in_context for c in candidates])
        targets = list(dict.fromkeys([query.standalone, query.context]))
        meaning = np.mean([vectors @ np.asarray(self.embeddings.embed_query(t)) for t in targets], axis=0)
        texts = [c.text for c in candidates]
        wording, phrasing = _wording(question, [_with_lead_names(c) for c in candidates], implied=query.standalone)
        repeats = [_already_said(t, query.said) for t in texts]
        topic = {c.path for c, repeated in zip(candidates, repeats, strict=True) if repeated}
        bonus = kind_bonus(question, texts) + np.array(
            [
                TOPIC_BONUS * (c.path in topic) - REPEAT_PENALTY * repeated - HEADING_PENALTY * _is_heading(c.text)
                for c, repeated in zip(candidates, repeats, strict=True)
            ]
        )
        total = MEANING_WEIGHT * meaning + (1 - MEANING_WEIGHT) * wording + PAIR_BONUS * phrasing + bonus
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


def candidates(documents: list[Document]) -> list[Sentence]:
    """The sentences of ``documents`` worth quoting, each once."""
    seen: set[tuple[str, int]] = set()
    result = []
    for document in documents:
        meta = document.metadata
        for text, start, end, lead in sentences_with_leads(document):
            words = len(text.split())
            if (
                (meta["path"], start) in seen
                or words < MIN_WORDS
                or (words < MIN_HEADING_WORDS and _is_heading(text))
                or text == meta["title"]
            ):
                continue
            seen.add((meta["path"], start))
            result.append(Sentence(text, meta["source"], meta["title"], meta["path"], start, end, document, lead))
    return result


def _wording(question: str, texts: list[str], implied: str = "") -> tuple[np.ndarray, np.ndarray]:
    """How much of the question's wording each text contains: (words, word pairs).

    Words count by rarity; words only ``implied`` by the conversation (the name "he" stands for)
    count for less. Pairs tell "the Taliban's foreign minister" from "Iran's foreign minister",
    which shares every word of "Taliban's foreign minister" but one pair.
    """
    sequence = terms(question)
    wanted = set(sequence) | set(terms(implied))
    if not wanted:
        return np.zeros(len(texts)), np.zeros(len(texts))
    bags = [terms(t) for t in texts]
    word_sets = [set(bag) for bag in bags]
    frequency = Counter(term for bag in word_sets for term in bag & wanted)
    weight = {
        t: math.log((len(texts) + 1) / (frequency[t] + 0.5)) * (1.0 if t in sequence else IMPLIED_WEIGHT)
        for t in wanted
    }
    total = sum(weight.values())
    words = np.array([sum(weight[t] for t in bag & wanted) / total for bag in word_sets])
    pairs = set(itertools.pairwise(sequence))
    if not pairs:
        return words, np.zeros(len(texts))
    # One pair is weak evidence ("claimed by ISIS-K" for "claim about ISIS-K"); two or more are a phrase.
    trust = min(1.0, len(pairs) / 2)
    return words, trust * np.array([len(pairs & set(itertools.pairwise(bag))) / len(pairs) for bag in bags])


def _with_lead_names(sentence: Sentence) -> str:
    """The sentence plus the names in its lead: "He said ..." also matches "What did Bortnikov say?"."""
    return " ".join([sentence.text, *FULL_NAME.findall(sentence.lead)])


def _already_said(text: str, said: str) -> bool:
    """Whether an earlier answer quoted this sentence (its opening words are enough to tell)."""
    return bool(said) and " ".join(text.split()[:8]) in said


def _is_heading(text: str) -> bool:
    return not re.search(r"[.!।][\"'”’)\]]*$", text)
