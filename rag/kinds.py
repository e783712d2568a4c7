"""What kind of answer a question wants: a name, a number, a date, a place or a reason.

A sentence holding that kind of answer gets a small bonus over one that merely shares the topic:
"When did the meeting begin?" prefers "... began on Friday morning, October 4."
"""

from __future__ import annotations

import re

import numpy as np

from rag.text import FULL_NAME, terms

KIND_BONUS = 0.05
WHO_BONUS = 0.1  # "who" is answered by a name introduced beside the role asked about
NAME_WINDOW = 15  # characters between a name and the role it is introduced with
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_KIND_CUES = {
    "number": (re.compile(r"^\s*how (many|much)\b|\bwhat (number|amount)\b", re.I), re.compile(r"\d")),
    "time": (
        re.compile(r"^\s*when\b|\bwhat (date|day|year|month)\b", re.I),
        re.compile(rf"\b(\d{{4}}|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I),
    ),
    "place": (
        re.compile(r"^\s*where\b|\bwhich (city|country|place|province|venue)\b|\bin what (city|country)\b", re.I),
        re.compile(rf"\b(in|at|to) (?!(?i:{_MONTHS})\b)(?i:the )?[A-Z][\w’'-]+"),
    ),
    "reason": (
        re.compile(r"^\s*why\b|\bwhat (is|was) the reason\b", re.I),
        re.compile(r"\b(because|due to|requires?|since|in order to|so that|reason|as a result)\b", re.I),
    ),
}
_ASKS_WHO = re.compile(
    r"^\s*(who|(which|what) ([\w’'-]+ ){0,2}(person|official|minister|leader|diplomat|envoy|ambassador|"
    r"spokes\w+|commander|analyst|president|representative|general))\b",
    re.I,
)
_WHO_IS_NAME = re.compile(r"^\s*(?i:who) (?:is|was|'s) ((?:[A-Z][\w’'-]+\s*)+)\??\s*$")


def kind_bonus(question: str, texts: list[str]) -> np.ndarray:
    """Who/when/how-many/why questions prefer sentences holding a name, a date, a number, a reason."""
    named = _WHO_IS_NAME.match(question)
    if named:
        name = re.escape(named.group(1).strip())
        introduced = re.compile(rf"[A-Z][\w’'-]+\s+{name}\b|\b{name},\s")
        return np.array([WHO_BONUS if introduced.search(t) else 0.0 for t in texts])
    if _ASKS_WHO.search(question):
        wanted = set(terms(question))
        return np.array([WHO_BONUS if _names_beside(wanted, question, t) else 0.0 for t in texts])
    for asks, holds in _KIND_CUES.values():
        if asks.search(question):
            return np.array([KIND_BONUS if holds.search(t) else 0.0 for t in texts])
    return np.zeros(len(texts))


def _names_beside(wanted: set[str], question: str, text: str) -> bool:
    """Whether ``text`` introduces a new name right beside words of the question.

    "Amir Khan Muttaqi, the Taliban's foreign minister" answers "Who is the Taliban's foreign
    minister?"; a name far from the role ("... the Moscow Consultative Format") does not.
    """
    for match in FULL_NAME.finditer(text):
        if set(terms(match.group())) <= set(terms(question)):
            continue
        before = text[max(0, match.start() - NAME_WINDOW) : match.start()]
        after = text[match.end() : match.end() + NAME_WINDOW]
        if wanted & set(terms(before + " " + after)):
            return True
    return False
