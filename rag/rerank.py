"""retrieve → **rerank** → answer: score every sentence of the retrieved passages against the question.

No cross-encoder ships offline here, so the reranker combines signals that do: meaning (cosine
between sentence and question embeddings), wording (the question's rare words and word pairs the
sentence contains: exact names and numbers count most), the article's title, what kind of answer
the question wants (``rag.kinds``), and the conversation (a follow-up stays on topic and does not
repeat itself). With ``signals=False`` it scores by meaning alone: the "no rerank" baseline.

A question in another script (Hindi) is scored by meaning alone, from the multilingual model.
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
from rag.multilingual import foreign_script
from rag.similarity import VectorCache
from rag.text import FULL_NAME, terms
from rag.untrusted import is_instruction

MEANING_WEIGHT = 0.6  # the rest is wording overlap
IMPLIED_WEIGHT = 0.3  # for words the conversation filled in ("she" -> "Sofia Almeida")
PAIR_BONUS = 0.2  # for containing all the question's word pairs (in order, as phrases)
TITLE_WEIGHT = 0.05  # for an article whose title shares the question's words
MIN_WORDS = 4  # shorter lines are page furniture ("In Love", "0 Comments")
HEADING_PENALTY = 0.1  # a headline, byline or question is rarely an answer
REPEAT_PENALTY = 0.2  # a sentence an earlier answer already quoted
TOPIC_BONUS = 0.1  # a follow-up stays with the article the conversation was about
MIN_HEADING_WORDS = 6  # shorter unpunctuated lines are bylines and captions
# multilingual-e5 puts unrelated texts at cosine ~0.75 and related ones at 0.85+; stretch that
# range onto MiniLM's scale so the one abstention threshold serves both models.
E5_FLOOR = 0.75


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


class Reranker:
    """Scores candidate sentences for a query, reading their vectors from ``vectors``."""

    def __init__(self, vectors: VectorCache, multilingual: Embeddings | None = None, signals: bool = True):
        self.vectors = vectors
        self.multilingual = multilingual
        self.signals = signals

    def score(self, query: Query, candidates: list[Sentence]) -> list[Scored]:
        """Every candidate with its score, best first.

        Meaning is matched against the question as resolved by the conversation, wording against
        the user's own words: a name the conversation filled in must not outweigh what was asked.
        """
        if not candidates:
            return []
        targets = list(dict.fromkeys([query.standalone, query.context]))
        if self.multilingual is not None and foreign_script(query.asked):
            meaning = self._meaning(self.multilingual, candidates, targets)
            meaning = np.clip((meaning - E5_FLOOR) / (1 - E5_FLOOR), 0.0, 1.0)
            return _ranked(candidates, meaning, meaning, np.zeros(len(candidates)))
        meaning = self._meaning(self.vectors.embeddings, candidates, targets)
        if not self.signals:
            return _ranked(candidates, meaning, meaning, np.zeros(len(candidates)))
        question = query.asked
        texts = [c.text for c in candidates]
        wording, phrasing = _wording(question, [_with_lead_names(c) for c in candidates], implied=query.standalone)
        titled, _ = _wording(question, [c.title for c in candidates])
        repeats = [_already_said(t, query.said) for t in texts]
        topic = {c.path for c, repeated in zip(candidates, repeats, strict=True) if repeated}
        bonus = np.array(
            [
                TOPIC_BONUS * (c.path in topic) - REPEAT_PENALTY * repeated - HEADING_PENALTY * _is_heading(c.text)
                for c, repeated in zip(candidates, repeats, strict=True)
            ]
        )
        total = (
            MEANING_WEIGHT * meaning
            + (1 - MEANING_WEIGHT) * wording
            + PAIR_BONUS * phrasing
            + TITLE_WEIGHT * titled
            + bonus
        )
        return _ranked(candidates, total, meaning, wording)

    def _meaning(self, model: Embeddings, candidates: list[Sentence], targets: list[str]) -> np.ndarray:
        vectors = self.vectors.embed([c.in_context for c in candidates], model)
        return np.mean([vectors @ np.asarray(model.embed_query(t)) for t in targets], axis=0)


def _ranked(candidates: list[Sentence], total: np.ndarray, meaning: np.ndarray, wording: np.ndarray) -> list[Scored]:
    order = sorted(range(len(candidates)), key=lambda i: -total[i])
    return [Scored(candidates[i], float(total[i]), float(meaning[i]), float(wording[i])) for i in order]


def rerank_documents(documents: list[Document], scored: list[Scored]) -> list[Document]:
    """The passages ordered by their best sentence; passages without a scored sentence keep their place after."""
    best: dict[str, float] = {}
    for s in scored:
        key = s.sentence.chunk.id or s.sentence.chunk.page_content
        best.setdefault(key, s.score)
    keyed = [(best.get(d.id or d.page_content), i, d) for i, d in enumerate(documents)]
    ranked = sorted((k for k in keyed if k[0] is not None), key=lambda k: (-k[0], k[1]))
    return [d for *_, d in ranked] + [d for score, _, d in keyed if score is None]


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
                or is_instruction(text)  # an order to the reader or an AI is article data, never an answer
            ):
                continue
            seen.add((meta["path"], start))
            result.append(Sentence(text, meta["source"], meta["title"], meta["path"], start, end, document, lead))
    return result


def _wording(question: str, texts: list[str], implied: str = "") -> tuple[np.ndarray, np.ndarray]:
    """How much of the question's wording each text contains: (words, word pairs).

    Words count by rarity; words only ``implied`` by the conversation (the name "he" stands for)
    count for less. Pairs tell "the club's head coach" from "the head of the club's coaching staff",
    which shares every word but not the pair "head coach".
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
    # One pair is weak evidence ("coach left" for "left coach"); two or more are a phrase.
    trust = min(1.0, len(pairs) / 2)
    return words, trust * np.array([len(pairs & set(itertools.pairwise(bag))) / len(pairs) for bag in bags])


def _with_lead_names(sentence: Sentence) -> str:
    """The sentence plus the names in its lead: "He said ..." also matches "What did Okafor say?"."""
    return " ".join([sentence.text, *FULL_NAME.findall(sentence.lead)])


def _already_said(text: str, said: str) -> bool:
    """Whether an earlier answer quoted this sentence (its opening words are enough to tell)."""
    return bool(said) and " ".join(text.split()[:8]) in said


def _is_heading(text: str) -> bool:
    return not re.search(r"[.!।][\"'”’)\]]*$", text)
