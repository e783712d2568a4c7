"""Written answers from real language models: SmolLM2-135M in-process (llama.cpp), and the same model
behind llama-cpp-python's OpenAI-compatible server. Every shown sentence must be checked and cited;
failures must fall back to quoted sentences with a notice."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from rag import Assistant, Settings
from rag.errors import RagError
from rag.grounding import MARKER
from rag.llm import gguf_path
from tests.conftest import SEEDS
from tests.servers import RAG, free_port, ingest, running_llama_server, running_server, stream_lines

ENVOY = "Who is Pakistan's envoy to the UN?"
ENVOY_SOURCE = "002_663675794b460625.txt"
# SmolLM2-135M answers this one in words of its passage; its answer to ENVOY does not pass the checker.
ATTACK = "How many casualties did the ISIS attack in Moscow cause?"
ATTACK_SOURCE = "000_9e119cf1d9bedd41.txt"
UNANSWERABLE = "Who won the 2022 FIFA World Cup?"


def with_llm(seeded: Assistant, **llm) -> Assistant:
    """Another assistant over the seeded index, answering with a language model."""
    llm = {"llm_timeout": 600, **llm}  # a busy CI machine is slow; the timeout has its own tests
    return Assistant(Settings(data_dir=seeded.settings.data_dir, corpus=seeded.settings.corpus, **llm))


@pytest.fixture(scope="module")
def local(seeded) -> Assistant:
    return with_llm(seeded, llm="local")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    with running_llama_server(gguf_path(), tmp_path_factory.mktemp("llama")) as url:
        yield url


@pytest.fixture(scope="module")
def remote(seeded, llama_server) -> Assistant:
    return with_llm(seeded, llm="openai", llm_base_url=llama_server, llm_model="smollm2")


def assert_checked_and_cited(answer: dict, source: str) -> None:
    """A written answer (as JSON): each sentence ends in markers, numbered 1..n densely, each a real citation."""
    assert answer["answerer"] == "llm" and not answer["abstained"]
    citations = answer["citations"]
    numbers = [int(n) for m in MARKER.finditer(answer["answer"]) for n in re.findall(r"\d+", m.group(1))]
    assert sorted(set(numbers)) == list(range(1, len(citations) + 1))
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    assert len({(c["source"], c["start"]) for c in citations}) == len(citations)
    assert citations[0]["source"] == source
    assert answer["grounding"]["kept"] >= 1


def test_the_packaged_model_file_is_found_without_importing_its_package():
    path = gguf_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["local", "remote"])
def test_a_covered_question_gets_a_written_answer_with_checked_citations(provider, request):
    assistant = request.getfixturevalue(provider)
    answer = assistant.ask(ATTACK)
    assert_checked_and_cited(answer.to_dict(), ATTACK_SOURCE)
    assert answer.grounding.sentences and answer.grounding.counts() == answer.to_dict()["grounding"]
    quoted = " ".join(c.quote for c in answer.citations)
    assert all(number in quoted for number in re.findall(r"\d+", MARKER.sub("", answer.answer)))


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["local", "remote"])
def test_an_uncovered_question_abstains_before_the_model_can_invent_an_answer(provider, request):
    answer = request.getfixturevalue(provider).ask(UNANSWERABLE)
    assert answer.abstained and answer.citations == [] and "FIFA" not in answer.answer


@pytest.mark.slow
def test_streaming_yields_checked_sentences_then_the_same_answer(local):
    response = local.stream(ATTACK)
    sentences = list(response)
    assert sentences and all(isinstance(s, str) for s in sentences)
    assert " ".join(sentences) == response.answer.answer


@pytest.mark.slow
def test_the_extractive_answerer_can_still_be_chosen_per_question(local, seeded):
    assert local.modes == ["llm", "extractive"]
    assert local.ask(ENVOY, mode="extractive") == seeded.ask(ENVOY)
    with pytest.raises(RagError, match="no language model"):
        seeded.ask(ENVOY, mode="llm")


@pytest.mark.slow
def test_an_unreachable_server_falls_back_to_quoted_sentences_with_a_notice(seeded):
    down = with_llm(seeded, llm="openai", llm_base_url=f"http://127.0.0.1:{free_port()}/v1")
    answer = down.ask(ENVOY)
    assert answer.answerer == "extractive" and "Akram" in answer.answer
    assert answer.citations[0].source == ENVOY_SOURCE
    assert "connection" in answer.notice and "quoted from the articles" in answer.notice


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["local", "openai"])
def test_a_model_too_slow_for_the_timeout_falls_back_with_a_notice(provider, seeded, llama_server):
    slow = with_llm(seeded, llm=provider, llm_base_url=llama_server, llm_timeout=0.001)
    answer = slow.ask(ENVOY)
    assert answer.answerer == "extractive" and answer.citations[0].source == ENVOY_SOURCE
    assert "quoted from the articles" in answer.notice


@pytest.mark.slow
def test_follow_up_rewriting_leaves_greetings_and_standalone_questions_alone(local):
    history = [("Who is the Taliban's foreign minister?", "Amir Khan Muttaqi is the foreign minister. [1]")]
    assert local.generator.rewrite("thanks!", history) is None
    assert local.generator.rewrite(ENVOY, history) is None
    assert local.generator.rewrite("What did he say?", []) is None
    rewritten = local.generator.rewrite("What did he say about Russia?", history)
    assert rewritten is None or "Russia" in rewritten


@pytest.mark.slow
def test_cli_ask_with_a_local_model_prints_a_cited_answer(seeded):
    result = subprocess.run(
        [
            RAG,
            "ask",
            "--llm",
            "local",
            "--llm-timeout",
            "600",
            "--data-dir",
            str(seeded.settings.data_dir),
            "--json",
            ATTACK,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert_checked_and_cited(json.loads(result.stdout), ATTACK_SOURCE)


@pytest.mark.slow
def test_cli_rejects_an_unknown_provider_with_exit_2(seeded):
    result = subprocess.run([RAG, "ask", "--llm", "gpt9", ENVOY], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "invalid choice" in result.stderr


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("llm-server") / "data"
    ingest(data_dir, SEEDS)
    with running_server(data_dir, "--llm", "local", "--llm-timeout", "600") as url:
        yield url


@pytest.mark.slow
def test_the_stream_endpoint_sends_sentences_then_the_final_answer(llm_server):
    lines = stream_lines(f"{llm_server}/api/ask/stream", {"question": ATTACK})
    *sentences, last = lines
    assert sentences and all(set(line) == {"sentence"} for line in sentences)
    assert_checked_and_cited(last["answer"], ATTACK_SOURCE)
    assert " ".join(line["sentence"] for line in sentences) == last["answer"]["answer"]


@pytest.mark.slow
def test_the_stream_endpoint_serves_the_extractive_answerer_on_request(llm_server):
    (only,) = stream_lines(f"{llm_server}/api/ask/stream", {"question": ENVOY, "answerer": "extractive"})
    assert only["answer"]["answerer"] == "extractive" and "Munir Akram" in only["answer"]["answer"]


@pytest.mark.slow
def test_the_chat_endpoint_switches_answerers(llm_server):
    from gradio_client import Client

    client = Client(f"{llm_server}/", verbose=False)
    for answerer in ("llm", "extractive"):
        messages, _box, sources = client.predict(ATTACK, [], answerer, api_name="/chat")
        assert ATTACK_SOURCE in sources and "Moscow" in json.dumps(messages)


@pytest.mark.slow
def test_the_openai_endpoint_streams_the_models_checked_sentences(llm_server):
    import openai

    client = openai.OpenAI(base_url=f"{llm_server}/v1", api_key="unused", max_retries=0, timeout=600)
    assert [model.id for model in client.models.list()] == ["news-qa-llm", "news-qa"]
    messages = [{"role": "user", "content": ATTACK}]
    chunks = list(client.chat.completions.create(model="news-qa-llm", messages=messages, stream=True))
    answer = chunks[-1].news_qa
    assert_checked_and_cited(answer, ATTACK_SOURCE)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed.startswith(answer["answer"]) and f"({ATTACK_SOURCE}):" in streamed
