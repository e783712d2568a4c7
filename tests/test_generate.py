"""Written answers fall back to quoted sentences only when the model fails, never when our code does."""

from __future__ import annotations

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rag.generate import Generated, GenerativeAnswerer
from rag.grounding import Passage
from tests.servers import free_port

PASSAGES = [Passage("Pakistan’s UN envoy, Munir Akram, spoke at a UN Security Council session.", ("a.txt", 0))]
QUESTION = "Who is Pakistan's UN envoy?"


def run(answerer: GenerativeAnswerer) -> tuple[list[str], Generated]:
    """The sentences streamed, and how the generation ended (the generator's return value)."""
    stream, sentences = answerer.stream(QUESTION, PASSAGES), []
    while True:
        try:
            sentences.append(next(stream))
        except StopIteration as end:
            return sentences, end.value


def model(text: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(text)]))


def test_a_supported_sentence_is_streamed_and_the_generation_ends_without_failure():
    answerer = GenerativeAnswerer(model("Munir Akram is Pakistan's UN envoy [1]."), timeout=60, min_support=0.6)
    sentences, outcome = run(answerer)
    assert sentences == ["Munir Akram is Pakistan's UN envoy. [1]"]
    assert outcome.failure is None and outcome.grounded.sentences == sentences


def test_an_unreachable_provider_is_a_failure_the_caller_falls_back_from():
    from langchain_openai import ChatOpenAI

    down = ChatOpenAI(base_url=f"http://127.0.0.1:{free_port()}/v1", api_key="none", max_retries=0, timeout=10)
    sentences, outcome = run(GenerativeAnswerer(down, timeout=60, min_support=0.6))
    assert sentences == [] and outcome.failure.endswith("ConnectionError: connection refused or lost")


def test_a_bug_in_the_checker_is_raised_not_turned_into_a_fallback_answer():
    def broken_similarity(text: str, passage: str) -> float:
        return {}[text]  # a bug of ours: a KeyError

    answerer = GenerativeAnswerer(
        model("Munir Akram is Pakistan's UN envoy [1]."), broken_similarity, timeout=60, min_support=0.6
    )
    with pytest.raises(KeyError):
        run(answerer)
