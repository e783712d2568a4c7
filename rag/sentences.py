"""Sentences: their spans inside a paragraph, so chunks and quotes never cut a sentence in half,
and whole sentences cut from streamed text (:class:`SentenceSplitter`), so a generated answer is
checked one complete sentence at a time.

Splitting is syntok's (a maintained rule-based segmenter: abbreviations, initials, decimals,
quotes, capitals of any script). syntok does not know the Devanagari danda (``।``), so a
sentence is also ended there. Offsets are syntok's token offsets: ``text[start:end]`` is always
the sentence exactly as the file has it.
"""

from __future__ import annotations

import re

from syntok.segmenter import analyze

_DANDA = re.compile(r"[।॥]+[\"'”’)\]]*\s+")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[[^\]]*\d[^\]]*\])+")  # "[1]", "[2, 3]" opening a sentence
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


# What can end or open a sentence for syntok (its terminals and opening brackets), and the danda.
_BOUNDARY = re.compile(
    "[.!?;…।॥\u203c\u203d\u2047-\u2049\u3002\ufe52\ufe57\uff01\uff0e\uff1f\uff61"
    "([{\uff5f\uff5b\uff3b\uff08\ufe5d\ufe5b\ufe59\ufd3e\u301a\u3018\u2985\u2983\u2329]"
)


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of ``text``, shifted by ``offset``."""
    start, end = _strip(text, 0, len(text))
    if start < end and _one_sentence(text[start:end]):
        return [(offset + start, offset + end)]
    return syntok_spans(text, offset)


def syntok_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """:func:`split_sentences` asking syntok whatever the text."""
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


def _one_sentence(line: str) -> bool:
    """Whether syntok would find one sentence in ``line``: nothing that could end or open one before its
    last character, which is a full stop, a question or exclamation mark, or nothing of the kind.

    Half of the seed articles' text is such lines (wire copy puts a sentence to a paragraph), and
    syntok reads them at 2-3 ms per article; tests/test_loading.py holds this to syntok's answer.
    """
    last = line[-1]
    return (
        line.isprintable()
        and not _BOUNDARY.search(line, 0, len(line) - 1)
        and (last in ".!?" or not _BOUNDARY.match(last))
    )


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


class SentenceSplitter:
    """Cuts streamed text into whole sentences, each with the markers that follow its full stop.

    "Almeida is the coach. [1] She said" yields "Almeida is the coach. [1]" once "He" has arrived: a
    sentence is complete only when the next one has begun, so trailing markers stay with it.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        done = [s for line in lines for s in _sentences(line)]
        pending = _sentences(self._buffer)
        # The last sentence of the open line may still grow; the one before it is complete only
        # when the last has begun with more than markers.
        while len(pending) > 1 and not _begun(pending[-1]):
            tail = pending.pop()
            pending[-1] += " " + tail
        if len(pending) > 1:
            done += pending[:-1]
            self._buffer = pending[-1]
        return done

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer, ""
        return _sentences(rest)


def _sentences(line: str) -> list[str]:
    """The sentences of one line, leading markers moved back to the sentence before."""
    line = _BULLET.sub("", line).strip()
    parts = [line[s:e] for s, e in split_sentences(line)] if line else []
    merged: list[str] = []
    for part in parts:
        lead = _LEADING_MARKERS.match(part)
        if lead and merged:
            merged[-1] += " " + lead.group(0).strip()
            part = part[lead.end() :].strip()
        if part:
            merged.append(part)
    return merged


def _begun(sentence: str) -> bool:
    """Whether a sentence has more than (possibly unfinished) markers: "[1] He" has, "[1" has not."""
    rest = _LEADING_MARKERS.sub("", sentence).strip()
    return bool(rest) and not rest.startswith("[")
