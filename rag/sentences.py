"""Sentence spans inside a paragraph, so chunks and quotes never cut a sentence in half.

Splitting is syntok's (a maintained rule-based segmenter: abbreviations, initials, decimals,
quotes, capitals of any script). syntok does not know the Devanagari danda (``।``), so a
sentence is also ended there. Offsets are syntok's token offsets: ``text[start:end]`` is always
the sentence exactly as the file has it.
"""

from __future__ import annotations

import re

from syntok.segmenter import analyze

_DANDA = re.compile(r"[।॥]+[\"'”’)\]]*\s+")


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of ``text``, shifted by ``offset``."""
    spans: list[tuple[int, int]] = []
    for paragraph in analyze(text):
        for sentence in paragraph:
            tokens = list(sentence)
            if not tokens:
                continue
            start = tokens[0].offset
            end = tokens[-1].offset + len(tokens[-1].value)
            spans.extend(_split_at_danda(text, start, end))
    return [(offset + s, offset + e) for s, e in map(lambda span: _strip(text, *span), spans) if e > s]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_at_danda(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for match in _DANDA.finditer(text, start, end):
        spans.append((start, match.end() - len(match.group()) + len(match.group().rstrip())))
        start = match.end()
    spans.append((start, end))
    return spans


_PRONOUN_START = re.compile(r"^[\"“‘']?(he|she|they|it|his|her|their|its|this|these|those)\b", re.IGNORECASE)


def leans_on_previous(sentence: str) -> bool:
    """Whether the sentence opens with a pronoun ("He also said ...") and needs the one before."""
    return bool(_PRONOUN_START.match(sentence))
