"""Checks of what users send, in one place: the CLI, the HTTP APIs and Python all call these.

Each check returns the value in the form the pipeline uses, or raises :class:`InvalidQuestion`
with a message that says what to fix. Nothing is coerced: a number is not a question, a dict is
not a history.
"""

from __future__ import annotations

import unicodedata

from pydantic import ValidationError

from rag.conversation import History
from rag.errors import InvalidQuestion

ANSWER_MODES = ("extractive", "llm")  # who writes the answer: sentences quoted as they are, or a language model
MAX_HISTORY_CHARS = 200_000  # a long conversation is a few thousand characters
HISTORY_SHAPE = "history must be a list of [question, answer] pairs of strings"


def check_question(question: object, max_chars: int) -> str:
    """The question with its spacing normalised; refused when empty, over ``max_chars`` or binary."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be a string, not {type(question).__name__}")
    if not question.strip():
        raise InvalidQuestion("the question is empty; type a question about the articles")
    if len(question) > max_chars * 4:  # don't even normalise a megabyte
        raise InvalidQuestion(f"the question is {len(question)} characters long; the limit is {max_chars}")
    question = " ".join(question.split())
    if len(question) > max_chars:
        raise InvalidQuestion(f"the question is {len(question)} characters long; the limit is {max_chars}")
    check_text(question, "the question")
    return question


def check_text(text: str, what: str) -> None:
    """Refuse what no keyboard types: control characters (binary data) and lone surrogates."""
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            raise InvalidQuestion(f"{what} contains the control character U+{ord(char):04X}; send plain text")
        if category == "Cs":
            raise InvalidQuestion(f"{what} is not valid Unicode text (lone surrogate U+{ord(char):04X})")


def check_history(history: History | object) -> list[tuple[str, str]]:
    """``[(question, answer), ...]`` of strings (lists or tuples); anything else is refused, not coerced."""
    if not isinstance(history, list | tuple):
        raise InvalidQuestion(HISTORY_SHAPE)
    pairs = []
    for pair in history:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InvalidQuestion(HISTORY_SHAPE)
        question, answer = pair
        if not isinstance(question, str) or not isinstance(answer, str):
            raise InvalidQuestion(HISTORY_SHAPE)
        pairs.append((question, answer))
    if sum(len(q) + len(a) for q, a in pairs) > MAX_HISTORY_CHARS:
        raise InvalidQuestion(f"history is longer than {MAX_HISTORY_CHARS} characters; start a new conversation")
    for question, answer in pairs:
        check_text(" ".join(f"{question} {answer}".split()), "the history")
    return pairs


def check_mode(mode: object, available: list[str]) -> str:
    """The answer mode asked for (``None``: the first available), if this assistant has it.

    The HTTP field and the JSON answer call it ``answerer``, so the messages do too.
    """
    if mode is None:
        return available[0]
    if mode not in ANSWER_MODES:
        raise InvalidQuestion(f"answerer must be one of {', '.join(ANSWER_MODES)}, not {shown(str(mode))!r}")
    if mode not in available:
        raise InvalidQuestion("no language model is configured: start with --llm local or --llm openai")
    return mode


def shown(text: str, limit: int = 80) -> str:
    """User input echoed in a message: printable and short."""
    text = text.encode("unicode_escape", "backslashreplace").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[:limit] + "…"


def problems(invalid: ValidationError) -> str:
    """Pydantic's complaints as one line for a message: ``top_k: Input should be ...; llm: ...``."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg'].removeprefix('Value error, ')}"
        for e in invalid.errors()
    )
