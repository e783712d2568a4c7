"""Sentence spans inside a paragraph, so chunks and quotes never cut a sentence in half.

A small rule-based splitter is enough for news prose: it ends a sentence at ``. ! ? ।`` (the
Devanagari danda too) followed by whitespace and a capital, digit or opening quote, unless the
word before the full stop is a known abbreviation or an initial.
"""

from __future__ import annotations

import re

_END = re.compile(r"[.!?।]+[\"'”’)\]]*(?=\s)")
_NEXT_START = re.compile(r"\s+([\"'“‘(\[]?[A-Z0-9\u0900-\u097F])")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "st", "sr", "jr",
    "vs", "no", "nos", "inc", "ltd", "co", "corp", "dept", "gov", "sen", "rep", "etc",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
}  # fmt: skip


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of ``text``, shifted by ``offset``.

    Spans are stripped of surrounding whitespace, so ``text[start:end]`` is the sentence itself.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        following = _NEXT_START.match(text, end)
        if following is None or _is_abbreviation(text, match.start()):
            continue
        spans.append((start, end))
        start = following.start(1)
    spans.append((start, len(text)))
    return [(offset + s, offset + e) for s, e in (_strip(text, s, e) for s, e in spans) if e > s]


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([\w.-]+)$", text[:dot])  # "ISIS-K." ends a sentence, "K." alone is an initial
    if word is None:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_PRONOUN_START = re.compile(r"^[\"“‘']?(he|she|they|it|his|her|their|its|this|these|those)\b", re.IGNORECASE)


def leans_on_previous(sentence: str) -> bool:
    """Whether the sentence opens with a pronoun ("He also said ...") and needs the one before."""
    return bool(_PRONOUN_START.match(sentence))
