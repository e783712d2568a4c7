"""The OpenAI-compatible chat endpoint, driven by the official ``openai`` client against a real `rag serve`.

One server for the module, with a login and an API token, as a team would run it.
"""

from __future__ import annotations

import base64
import json
import re

import openai
import pytest

from tests.conftest import SEEDS
from tests.servers import get, ingest, post, running_server

pytestmark = pytest.mark.slow  # a real server

ENVOY = "Who is Pakistan's envoy to the UN?"
ENVOY_SOURCE = "002_663675794b460625.txt"
NORWAY = "Who is Norway's chargé d'affaires in Afghanistan?"
NORWAY_SOURCE = "000_9e119cf1d9bedd41.txt"
UNANSWERABLE = "Who won the 2022 FIFA World Cup?"
TOKEN = "tok-7f3a9c"
BASIC = "Basic " + base64.b64encode(b"alice:s3cret").decode()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openai") / "data"
    ingest(folder, SEEDS)
    return folder


@pytest.fixture(scope="module")
def server(data_dir):
    with running_server(data_dir, "--auth", "alice:s3cret", "--api-token", TOKEN) as url:
        yield url


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key=TOKEN, max_retries=0, timeout=300)


def ask(client: openai.OpenAI, *messages: dict, model: str = "news-qa"):
    return client.chat.completions.create(model=model, messages=list(messages))


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def test_models_lists_one_model_per_answerer(client):
    assert [model.id for model in client.models.list()] == ["news-qa"]  # no language model configured


def test_a_question_is_answered_with_markers_and_a_sources_list(client):
    completion = ask(client, {"role": "system", "content": "You are a helpful assistant."}, user(ENVOY))
    reply = completion.choices[0].message
    assert reply.role == "assistant" and completion.choices[0].finish_reason == "stop"
    assert "Munir Akram" in reply.content and "[1]" in reply.content
    answer, sources = reply.content.split("\n\nSources:\n")
    assert ENVOY_SOURCE in sources.splitlines()[0]
    structured = completion.news_qa  # the extra field: the same object POST /api/ask returns
    assert structured["abstained"] is False
    first = structured["citations"][0]
    assert first["source"] == ENVOY_SOURCE and first["quote"] in answer and first["title"] in sources
    text = (SEEDS / ENVOY_SOURCE).read_text(encoding="utf-8")
    assert text[first["start"] : first["end"]] == first["quote"]
    short = structured["short_answer"]  # the name asked for, a verbatim span of the cited file
    assert short["source"] == ENVOY_SOURCE and text[short["start"] : short["end"]] == short["text"]
    assert answer.startswith(f"{short['text']} [")


def test_the_reply_matches_the_json_api(client, server):
    completion = ask(client, user(ENVOY))
    status, answer = post(f"{server}/api/ask", {"question": ENVOY}, {"Authorization": BASIC})
    assert status == 200 and completion.news_qa == answer
    assert completion.choices[0].message.content.startswith(answer["answer"])


def test_earlier_turns_are_the_history_of_a_follow_up(client):
    first = ask(client, user(NORWAY))
    assert first.news_qa["citations"][0]["source"] == NORWAY_SOURCE
    follow_up = ask(
        client,
        user(NORWAY),
        {"role": "assistant", "content": first.choices[0].message.content},
        user("What did he say about ISIS?"),
    )
    assert follow_up.news_qa["citations"][0]["source"] == NORWAY_SOURCE
    alone = ask(client, user("What did he say about ISIS?"))  # without the history "he" is nobody
    assert alone.news_qa != follow_up.news_qa


def test_content_parts_are_read_as_text(client):
    completion = ask(client, {"role": "user", "content": [{"type": "text", "text": ENVOY}]})
    assert completion.news_qa["citations"][0]["source"] == ENVOY_SOURCE


def test_streaming_sends_the_answer_piece_by_piece_then_the_sources(client):
    chunks = list(client.chat.completions.create(model="news-qa", messages=[user(ENVOY)], stream=True))
    *pieces, sources = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    structured = final.news_qa
    assert len(pieces) >= len(structured["citations"])  # one piece per quoted sentence (and the short answer)
    assert all(re.search(r"\[\d+\]\.?$", piece) for piece in pieces)  # each piece ends with its marker
    assert "".join(pieces).strip() == structured["answer"]
    assert sources.startswith("\n\nSources:\n") and ENVOY_SOURCE in sources
    plain = ask(client, user(ENVOY)).choices[0].message.content
    assert "".join(pieces) + sources == plain and "Munir Akram" in plain


def test_the_stream_ends_with_done(server):
    body = json.dumps({"model": "news-qa", "messages": [user(ENVOY)], "stream": True}).encode()
    status, raw = post_raw(f"{server}/v1/chat/completions", body, {"Authorization": f"Bearer {TOKEN}"})
    events = [line.removeprefix("data: ") for line in raw.decode().split("\n\n") if line]
    assert status == 200 and events[-1] == "[DONE]"
    assert all(json.loads(event)["object"] == "chat.completion.chunk" for event in events[:-1])


def test_an_unanswerable_question_is_a_normal_reply_saying_so(client):
    completion = ask(client, user(UNANSWERABLE))
    assert completion.choices[0].finish_reason == "stop"
    assert completion.news_qa["abstained"] is True and completion.news_qa["citations"] == []
    content = completion.choices[0].message.content
    assert content == completion.news_qa["answer"] and "Sources" not in content
    chunks = list(client.chat.completions.create(model="news-qa", messages=[user(UNANSWERABLE)], stream=True))
    assert chunks[-1].news_qa["abstained"] is True
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == content


@pytest.mark.parametrize(
    ("messages", "model", "error", "status", "words"),
    [
        ([], "news-qa", openai.BadRequestError, 400, "messages"),
        (
            [user(ENVOY), {"role": "assistant", "content": "Munir Akram"}],
            "news-qa",
            openai.BadRequestError,
            400,
            "last message",
        ),
        ([user(ENVOY)], "gpt-4o", openai.NotFoundError, 404, "unknown model"),
        ([user(ENVOY)], "news-qa-llm", openai.NotFoundError, 404, "unknown model"),
        ([user("   ")], "news-qa", openai.BadRequestError, 400, "empty"),
        ([user("x" * 5000)], "news-qa", openai.BadRequestError, 400, "limit"),
        (
            [{"role": "user", "content": [{"type": "image_url"}, 7]}],
            "news-qa",
            openai.BadRequestError,
            400,
            "text parts",
        ),
    ],
)
def test_bad_requests_get_the_openai_error_shape(client, messages, model, error, status, words):
    with pytest.raises(error) as raised:
        client.chat.completions.create(model=model, messages=messages)
    assert raised.value.status_code == status
    assert words in raised.value.body["message"] and set(raised.value.body) >= {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"model": "news-qa", "messages": [user("y" * 300_000)]}).encode(), 413, "larger than"),
        (json.dumps({"model": "news-qa", "messages": [user(ENVOY)], "stream": "yes"}).encode(), 400, "stream"),
        (json.dumps({"model": ["news-qa"], "messages": [user(ENVOY)]}).encode(), 400, "model"),
        (json.dumps({"model": "news-qa", "messages": [{"content": ENVOY}]}).encode(), 400, "role"),
    ],
)
def test_malformed_and_oversized_bodies_get_a_4xx_in_the_openai_shape(server, body, status, words):
    got, raw = post_raw(f"{server}/v1/chat/completions", body, {"Authorization": f"Bearer {TOKEN}"})
    error = json.loads(raw)["error"]
    assert got == status and words in error["message"] and error["type"] == "invalid_request_error"


def test_the_api_token_and_the_login_are_accepted_anything_else_refused(server):
    wrong = openai.OpenAI(base_url=f"{server}/v1", api_key="not-the-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="news-qa", messages=[user(ENVOY)])
    body = {"model": "news-qa", "messages": [user(ENVOY)]}
    assert post(f"{server}/v1/chat/completions", body)[0] == 401  # no credentials at all
    status, completion = post(f"{server}/v1/chat/completions", body, {"Authorization": BASIC})
    assert status == 200 and "Munir Akram" in completion["choices"][0]["message"]["content"]
    # The token opens only the client routes: the page and the JSON API still want the login.
    assert post(f"{server}/api/ask", {"question": ENVOY}, {"Authorization": f"Bearer {TOKEN}"})[0] == 401
    assert get(f"{server}/", {"Authorization": f"Bearer {TOKEN}"})[0] == 401


def test_a_token_without_a_login_protects_only_the_client_routes(data_dir):
    with running_server(data_dir, "--api-token", TOKEN) as url:
        assert get(f"{url}/v1/models")[0] == 401 and post(f"{url}/mcp", {})[0] == 401
        assert get(f"{url}/v1/models", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
        assert get(f"{url}/")[0] == 200 and post(f"{url}/api/ask", {"question": ENVOY})[0] == 200


def post_raw(url: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read()
