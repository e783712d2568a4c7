"""JSON from strangers: depth and number size are bounded before anything is built from it.

Python's parser recurses once per nesting level and turns every digit string into an int, so a
body of 10,000 nested brackets or a 100,000-digit number costs a RecursionError or a ValueError
(and seconds of CPU) deep inside the server. :func:`loads` refuses both up front with a message
that says what was wrong; NaN and Infinity, which are not JSON, are refused too.
"""

from __future__ import annotations

import json
import re

from rag.errors import InvalidInput

MAX_DEPTH = 32  # a question body is 3 levels deep; chat payloads stay well under this
MAX_NUMBER_CHARS = 40  # longer than any id, count or float a client means
_TOKENS = re.compile(r'[\[\]{}"\\]')


class InvalidJSON(InvalidInput):
    """The text is not JSON, or is JSON built to exhaust the parser."""


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, max_number_chars: int = MAX_NUMBER_CHARS) -> object:
    """Parse ``data`` like :func:`json.loads`; raise :class:`InvalidJSON` with a clear message instead."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise InvalidJSON(f"malformed JSON: not UTF-8 text (byte {exc.start})") from None
    if _too_deep(text, max_depth):
        raise InvalidJSON(f"malformed JSON: nested more than {max_depth} levels deep")

    def number(kind):
        def parse(digits: str):
            if len(digits) > max_number_chars:
                raise InvalidJSON(
                    f"malformed JSON: a number {len(digits)} characters long; the limit is {max_number_chars}"
                )
            return kind(digits)

        return parse

    def constant(name: str):
        raise InvalidJSON(f"malformed JSON: {name} is not a JSON number")

    try:
        return json.loads(text, parse_int=number(int), parse_float=number(float), parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise InvalidJSON(f"malformed JSON: {exc}") from None
    except (RecursionError, ValueError) as exc:  # InvalidJSON is a ValueError: keep its message
        if isinstance(exc, InvalidJSON):
            raise
        raise InvalidJSON(f"malformed JSON: {type(exc).__name__}") from None


def _too_deep(text: str, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit``, strings left out.

    Only quotes, backslashes and brackets are visited, and the scan stops at the first level past
    the limit, so a text-heavy body or a hostile one costs little. (For invalid JSON it is an
    estimate; the parser then says what is wrong.)
    """
    depth = 0
    in_string = False
    skip = -1  # the character after a backslash inside a string
    for match in _TOKENS.finditer(text):
        at = match.start()
        if at == skip:
            continue
        char = text[at]
        if in_string:
            if char == "\\":
                skip = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False
