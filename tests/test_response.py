"""The stream object: iterate a Response for the checked sentences, then read its final answer."""

from __future__ import annotations

import pytest

from rag.errors import EmptyIndex
from rag.response import Response
from rag.results import Answer

FINAL = Answer(question="How many died?", answer="139 people died. [1]")


def pipeline(*sentences: str, answer: Answer = FINAL, fail: Exception | None = None, ran: list | None = None):
    """What ``Assistant.stream`` wraps: a generator that yields sentences and returns the answer."""
    if ran is not None:
        ran.append("started")
    if fail is not None:
        raise fail
    yield from sentences
    return answer


def test_iterating_gives_the_sentences_then_answer_gives_the_final_answer():
    response = Response(pipeline("139 people died. [1]", "It was near Moscow. [2]"))
    assert list(response) == ["139 people died. [1]", "It was near Moscow. [2]"]
    assert response.answer is FINAL
    assert response.sentences == ["139 people died. [1]", "It was near Moscow. [2]"]


def test_a_quoted_answer_streams_no_sentence():
    response = Response(pipeline())
    assert list(response) == [] and response.answer is FINAL


def test_reading_the_answer_first_runs_the_pipeline_to_its_end():
    response = Response(pipeline("139 people died. [1]"))
    assert response.answer is FINAL and list(response) == []


def test_nothing_runs_until_the_response_is_read_or_begun():
    ran: list[str] = []
    response = Response(pipeline("139 people died. [1]", ran=ran))
    assert ran == []
    assert response.begin() is response and ran == ["started"]
    assert list(response) == ["139 people died. [1]"]  # the sentence begin() ran into is not lost


def test_begin_raises_the_pipeline_s_error_before_anything_is_sent():
    response = Response(pipeline(fail=EmptyIndex("nothing is indexed yet")))
    with pytest.raises(EmptyIndex, match="nothing is indexed yet"):
        response.begin()
    with pytest.raises(EmptyIndex):  # and again on reading the answer, never a None
        _ = response.answer


@pytest.mark.slow
def test_the_stream_of_a_real_question_ends_in_the_same_answer_as_ask(seeded):
    question = "Who is Pakistan's envoy to the UN?"
    response = seeded.stream(question)
    assert list(response) == []  # the quoting answerer streams nothing before its answer
    assert response.answer == seeded.ask(question) and "Munir Akram" in response.answer.answer
