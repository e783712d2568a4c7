"""Check a generated answer against the numbered passages it was given, sentence by sentence.

A language model is asked to cite passages with ``[n]`` markers. Nothing it writes is trusted:

- a marker that points to no passage is removed and counted (``unknown_markers``);
- a sentence is kept only when the passages it cites *support* it: most of its content words
  occur in them (at most a few are new), every number and name in it does, and it says "not"
  only if they do (a small model's favourite invention is a
  figure: "the population of the town is 1.4 million"); when embeddings are at hand, its meaning
  must also be close to theirs;
- a sentence with no marker, or whose markers point to passages that do not support it, is
  re-cited to the one passage that does (``recited``), or dropped (``dropped``);
- a sentence that only says the question back, goes round in circles, or is no sentence at all (a
  bare phrase, or one cut off on "in"/"the") is dropped;
- markers are renumbered densely in order of first use, one number per passage.

The checker is pure (text in, text out) and incremental, so a streamed answer is checked as each
sentence completes (``rag.sentences.SentenceSplitter`` cuts the stream) and only checked
sentences are ever shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from rag.sentences import SentenceSplitter
from rag.text import CAPITALISED, fold, terms
from rag.untrusted import contains_instruction

MIN_SUPPORT = 0.6  # share of a sentence's content words its cited passages must contain
MIN_SIMILARITY = 0.45  # cosine between sentence and cited passages, when embeddings are given
MAX_NEW_WORDS = 3  # content words a sentence may add to its cited passages ("said", "caused", ...)
MIN_RELEVANT = 0.3  # a cited passage sharing fewer of the sentence's words is not counted as its source

MARKER = re.compile(r"\[\s*(?:passage\s*)?(\d+(?:\s*[,;]\s*(?:passage\s*)?\d+)*)\s*\]", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = re.compile(r"\b(?:not|no|never|none|nor|neither|nothing|without)\b|n[’']t\b", re.IGNORECASE)
_PREAMBLE = re.compile(r"^(?:the )?(?:answer|passage)(?: is)?\s*:\s*", re.IGNORECASE)
# A sentence cut off ("... withdrew from the region in.") or a bare phrase ("Almeida [2]").
_DANGLING = re.compile(r"\b(?:a|an|the|of|in|on|at|to|for|from|with|by|and|or|as|that|its|their)\W*$", re.IGNORECASE)
_ENDED = re.compile(r"[.!?…\"”’')]\s*$")
MIN_PHRASE_WORDS = 6  # below this, text without a full stop is a phrase, not a checkable claim
_REFUSAL = re.compile(
    r"\b(not found|no answer|(?:do|does|did)(?: not|n[’']t) (?:say|mention|contain|provide|answer|know)|"
    r"no (?:information|mention)|not (?:mentioned|stated|provided|available|specified)|cannot (?:answer|find)|"
    r"can[’']t (?:answer|find)|unable to (?:answer|find))\b",
    re.IGNORECASE,
)

# What models say around an answer ("Sure! Based on the passages, ..."): no claim to check.
_FILLER = frozenset(terms("sure certainly yes okay answer answers passage passages based here question provided given"))

Similarity = Callable[[str, str], float]


@dataclass(frozen=True)
class Passage:
    """One numbered passage as the model saw it; ``key`` identifies its source span for deduplication."""

    text: str
    key: Hashable


@dataclass
class Grounded:
    """The outcome of checking one answer."""

    sentences: list[str] = field(default_factory=list)  # kept sentences, markers renumbered
    cited: list[int] = field(default_factory=list)  # passage indexes (0-based) in the order of the new numbers
    unknown_markers: int = 0  # markers pointing to no passage, removed
    recited: int = 0  # sentences whose markers were wrong or missing, re-cited to the passage that supports them
    dropped: int = 0  # sentences no passage supports
    refused: bool = False  # the model said the passages don't answer

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def counts(self) -> dict[str, int]:
        return {
            "kept": len(self.sentences),
            "dropped": self.dropped,
            "recited": self.recited,
            "unknown_markers": self.unknown_markers,
        }


class Grounder:
    """Checks an answer's sentences one at a time, keeping the renumbering consistent across them."""

    def __init__(
        self,
        passages: list[Passage],
        similarity: Similarity | None = None,
        *,
        question: str = "",
        min_support: float = MIN_SUPPORT,
        min_similarity: float = MIN_SIMILARITY,
    ):
        self.passages = passages
        self.similarity = similarity
        self.min_support = min_support
        self.min_similarity = min_similarity
        self.result = Grounded()
        self._numbers: dict[Hashable, int] = {}
        self._asked = set(terms(question))
        # A passage holding an order to the reader or an AI supports nothing: it is data, not a fact.
        self._terms = [set() if contains_instruction(p.text) else set(terms(p.text)) for p in passages]
        self._folded = [fold(p.text) for p in passages]

    def check(self, sentence: str) -> str | None:
        """The sentence as it may be shown (markers renumbered), or None when it is not supported."""
        cited, unknown = _markers(sentence, len(self.passages))
        self.result.unknown_markers += unknown
        text = _PREAMBLE.sub("", _clean(MARKER.sub(" ", sentence)))
        if not _claims(text):
            return None  # "Sure!", "Answer:": no claim to check
        if _REFUSAL.search(text):
            self.result.refused = True
            return None
        if (self._asked and _claims(text) <= self._asked) or _rambles(text) or _fragment(text):
            self.result.dropped += 1  # the question said back, words going round in circles, or no sentence
            return None
        sources = [i for i in cited if self._overlap(text, [i]) >= MIN_RELEVANT]
        if not (sources and self._supports(text, sources)):
            best = max(range(len(self.passages)), key=lambda i: self._overlap(text, [i]), default=None)
            if best is None or not self._supports(text, [best]):
                self.result.dropped += 1
                return None
            sources = [best]
            self.result.recited += 1
        numbers = []
        for i in sources:
            key = self.passages[i].key
            if key not in self._numbers:
                self._numbers[key] = len(self._numbers) + 1
                self.result.cited.append(i)
            numbers.append(self._numbers[key])
        shown = f"{text} {''.join(f'[{n}]' for n in sorted(set(numbers)))}"
        if shown in self.result.sentences:
            return None  # said once is enough
        self.result.sentences.append(shown)
        return shown

    def support(self, text: str, sources: list[int]) -> float:
        """Share of the sentence's content words found in the passages; 0 if a number or name is missing."""
        have = set().union(*(self._terms[i] for i in sources))
        if any(_missing(n, [self._folded[i] for i in sources]) for n in _NUMBER.findall(text)):
            return 0.0
        if any(name not in have for name in _names(text)):
            return 0.0
        return self._overlap(text, sources)

    def _overlap(self, text: str, sources: Iterable[int]) -> float:
        words = _claims(text)
        have = set().union(*(self._terms[i] for i in sources))
        return len(words & have) / len(words) if words else 0.0

    def _supports(self, text: str, sources: list[int]) -> bool:
        if self.support(text, sources) < self.min_support:
            return False
        if len(_claims(text) - set().union(*(self._terms[i] for i in sources))) > MAX_NEW_WORDS:
            return False
        if _NEGATION.search(text) and not any(_NEGATION.search(self.passages[i].text) for i in sources):
            return False  # "X did not meet Y" from "X met Y": same words, opposite meaning
        if self.similarity is None:
            return True
        joined = " ".join(self.passages[i].text for i in sources)
        return self.similarity(text, joined) >= self.min_similarity


def ground(answer: str, passages: list[Passage], similarity: Similarity | None = None, **options) -> Grounded:
    """Check a whole answer at once (what streaming does sentence by sentence)."""
    grounder = Grounder(passages, similarity, **options)
    splitter = SentenceSplitter()
    for sentence in [*splitter.feed(answer), *splitter.flush()]:
        grounder.check(sentence)
    return grounder.result


def _markers(sentence: str, count: int) -> tuple[list[int], int]:
    """Passage indexes (0-based, in order, once each) a sentence cites, and how many markers fit none."""
    cited: list[int] = []
    unknown = 0
    for match in MARKER.finditer(sentence):
        for number in re.findall(r"\d+", match.group(1)):
            n = int(number)
            if 1 <= n <= count:
                if n - 1 not in cited:
                    cited.append(n - 1)
            else:
                unknown += 1
    return cited, unknown


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([.,;:!?])", r"\1", text)


def _rambles(text: str) -> bool:
    """A sentence that keeps repeating itself: fewer than half of its (many) words are distinct."""
    words = terms(text)
    return len(words) >= 8 and len(set(words)) < len(words) / 2


def _fragment(text: str) -> bool:
    """Not a whole sentence: it stops on "in"/"the"/..., or is a short phrase with no full stop.

    A list of bare names taken from the passages passes every word check but answers nothing
    the quoted sentences would not answer better.
    """
    return bool(_DANGLING.search(text)) or (len(text.split()) < MIN_PHRASE_WORDS and not _ENDED.search(text))


def _claims(text: str) -> set[str]:
    return set(terms(text)) - _FILLER


def _names(text: str) -> set[str]:
    """The terms of the capitalised words in the sentence (its first word aside): names must be cited."""
    first = text.split(" ", 1)[0]
    words = [w for m in CAPITALISED.finditer(text) for w in m.group(0).split() if m.start() > 0 or w != first]
    return set(terms(" ".join(words)))


def _missing(token: str, passages: list[str]) -> bool:
    pattern = re.compile(rf"(?<!\w){re.escape(token)}(?!\w)")
    return not any(pattern.search(p) for p in passages)
