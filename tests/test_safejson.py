"""JSON from strangers (rag/safejson.py): bounded depth and number size, clear messages, never a crash."""

from __future__ import annotations

import json

import pytest

from rag.safejson import MAX_DEPTH, MAX_NUMBER_CHARS, InvalidJSON, loads


def test_ordinary_bodies_parse_like_the_standard_library():
    body = {"question": "Who is [the] envoy? {x}", "history": [["q", "a [1]"]], "n": -12.5e3, "ok": True}
    assert loads(json.dumps(body).encode()) == body
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) == json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[" * 10_000 + "]" * 10_000, "nested more than 32 levels deep"),
        ('{"question": "q", "history": ' + "[" * 5_000 + "]" * 5_000 + "}", "nested more than 32 levels deep"),
        ('{"question": ' + "[" * 100_000, "nested more than 32 levels deep"),  # unclosed too
        ('{"question": "q", "n": ' + "9" * 100_000 + "}", "a number 100000 characters long; the limit is 40"),
        ('{"n": 1.' + "5" * 5_000 + "}", "a number 5002 characters long"),
        ('{"n": NaN}', "NaN is not a JSON number"),
        ('{"n": -Infinity}', "-Infinity is not a JSON number"),
        ('{"question": "q",}', "malformed JSON: Expecting property name enclosed in double quotes"),
        (b'{"question": "\xff"}', "not UTF-8 text (byte 14)"),
    ],
)
def test_hostile_or_broken_json_is_refused_with_a_clear_message(text, message):
    with pytest.raises(InvalidJSON, match="malformed JSON") as refused:
        loads(text)
    assert message in str(refused.value)


def test_brackets_and_digits_inside_strings_do_not_count():
    text = json.dumps({"question": "[" * 1000 + "9" * 1000 + '\\"{'})
    assert loads(text)["question"].startswith("[" * 1000)
    assert len(str(10 ** (MAX_NUMBER_CHARS - 1))) == MAX_NUMBER_CHARS
    assert loads(str(10 ** (MAX_NUMBER_CHARS - 1))) == 10 ** (MAX_NUMBER_CHARS - 1)
