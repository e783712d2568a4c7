"""What a question asks for, read from its parse: the wh-phrase, its head noun, its names and numbers.

English grammar, not a corpus: "Who ...?" wants a person or a group, "How many ...?" a number,
"In which country ...?" the kind of thing its head noun names. Which entity labels answer which
class of question is learned from data (``rag.answer_model``), not written down here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from spacy.tokens import Doc

from rag.text import terms

CLASSES = ("who", "when", "where", "how_many", "how_much", "how_measure", "why", "how", "which", "what", "other")
_TIME_NOUNS = frozenset("year years date day days month months century decade time era period season".split())  # noqa: SIM905
_MEASURES = frozenset("long old far big large tall high wide deep fast often heavy".split())  # noqa: SIM905
# Classes whose answer is an explanation rather than a name, number or phrase: no short answer.
EXPLANATORY = frozenset({"why", "how"})


@dataclass(frozen=True)
class Question:
    """One question, analysed once and read by every feature."""

    text: str
    wh: str  # one of CLASSES
    head: str  # the noun of "which country", "what year" ("" when none)
    terms: frozenset[str]  # content words, folded and stemmed (``rag.text.terms``)
    names: tuple[str, ...]  # named entities and proper nouns, lower-cased
    numbers: tuple[str, ...]  # numerals as written
    governor: str = ""  # the content word the wh-phrase hangs from ("encourage" in "What did X encourage?")
    role: str = ""  # the wh-phrase's grammatical role there (dobj, nsubj, pobj, ...)
    negated: bool = False  # "Who did not ...?": the parse has a negation
    rarity: Mapping[str, float] = field(default_factory=dict)  # term -> how rare in the indexed articles (0..1]

    def weight(self, term: str) -> float:
        """What a term of the question weighs: its rarity in the articles, or 1 when that is unknown."""
        return self.rarity.get(term, 1.0)

    @property
    def wants_short_answer(self) -> bool:
        return self.wh not in EXPLANATORY


_WH = frozenset("who whom whose when where why how what which".split())  # noqa: SIM905


def _wh_words(doc: Doc) -> list:
    """Wh-words in order, but one opening a subordinate clause ("When X happened, what ...?") last."""
    found = [t for t in doc if t.lower_ in _WH]
    subordinate = [t for t in found if t.dep_ == "advmod" and t.head.dep_ == "advcl"]
    return [t for t in found if t not in subordinate] + subordinate


def analyse(doc: Doc, rarity: Callable[[Iterable[str]], Mapping[str, float]] | None = None) -> Question:
    """The question's class from its first wh-word (or "how ...") and what that word modifies.

    ``rarity`` (the lexical index's) weighs the question's terms by how rare they are in the articles.
    """
    wh, head, governor, role = "other", "", "", ""
    for token in _wh_words(doc):
        governor, role = _attachment(token)
        word = token.lower_
        if word in ("who", "whom", "whose"):
            wh = "who"
        elif word in ("when", "where", "why"):
            wh = word
        elif word == "how":
            following = token.nbor(1).lower_ if token.i + 1 < len(doc) else ""
            wh = {"many": "how_many", "much": "how_much"}.get(following, "how")
            if following in _MEASURES:
                wh = "how_measure"
        elif word in ("what", "which") and token.tag_ in ("WDT", "WP"):
            noun = token.head if token.dep_ == "det" and token.head.pos_ in ("NOUN", "PROPN") else None
            if noun is None and token.i + 1 < len(doc) and doc[token.i + 1].pos_ == "NOUN":
                noun = doc[token.i + 1]
            head = noun.lower_ if noun is not None else ""
            wh = "when" if head in _TIME_NOUNS else ("which" if noun is not None else "what")
        else:
            continue
        break
    names = {e.text.lower() for e in doc.ents if e.label_ not in ("CARDINAL", "ORDINAL", "QUANTITY", "PERCENT")}
    names |= {t.lower_ for t in doc if t.pos_ == "PROPN" and t.i > 0}
    numbers = tuple(dict.fromkeys(t.text for t in doc if t.like_num and any(c.isdigit() for c in t.text)))
    found = frozenset(terms(doc.text))
    return Question(
        doc.text,
        wh,
        head,
        found,
        tuple(sorted(names)),
        numbers,
        governor,
        role,
        negated=is_negated(doc),
        rarity=dict(rarity(found)) if rarity else {},
    )


def is_negated(doc: Doc) -> bool:
    """The parse marks a negation ("not", "never", "n't")."""
    return any(token.dep_ == "neg" for token in doc)


def _attachment(token) -> tuple[str, str]:
    """The content word a wh-phrase depends on, and its role there, looking through "of"/"with" and "which X".

    An answer tends to fill the same slot of the same word in the sentence that holds it: "What did
    the visits encourage?" ↔ "the visits encouraged *the growing fervour*".
    """
    phrase = token.head if token.dep_ == "det" and token.head.pos_ in ("NOUN", "PROPN") else token
    role, governor = phrase.dep_, phrase.head
    if governor.pos_ == "ADP" and governor.head.i != governor.i:  # "interdependent with what": the ADP's head
        role, governor = f"{governor.lower_}:{role}", governor.head
    if governor.i == phrase.i or governor.pos_ == "AUX":
        return "", role
    found = terms(governor.text)
    return (found[0] if found else ""), role
