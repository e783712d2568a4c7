"""The MCP server on /mcp, driven by the official ``mcp`` Python client against a real `rag serve`.

One server for the module, with a login and an API token: the client sends the token, as an AI
assistant configured with it would.
"""

from __future__ import annotations

import asyncio
import base64
import json

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.conftest import SEEDS
from tests.servers import ingest, running_server

pytestmark = pytest.mark.slow  # a real server

ENVOY = "Who is Pakistan's envoy to the UN?"
ENVOY_SOURCE = "002_663675794b460625.txt"
NORWAY = "Who is Norway's chargé d'affaires in Afghanistan?"
NORWAY_SOURCE = "000_9e119cf1d9bedd41.txt"
TOKEN = "mcp-token-51e2"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("mcp") / "data"
    ingest(data_dir, SEEDS)
    with running_server(data_dir, "--auth", "bob:pa55", "--api-token", TOKEN) as url:
        yield url


def session(url: str, authorization: str | None = f"Bearer {TOKEN}"):
    """An MCP client on ``url``/mcp, sending ``authorization`` with every request."""
    headers = {"Authorization": authorization} if authorization else {}
    http = httpx2.AsyncClient(headers=headers, timeout=300)
    return Client(streamable_http_client(f"{url}/mcp", http_client=http))


def run(url: str, steps, authorization: str | None = f"Bearer {TOKEN}"):
    """Connect, run ``await steps(client)``, disconnect; the result of ``steps``."""

    async def connected():
        async with session(url, authorization) as client:
            return await steps(client)

    return asyncio.run(connected())


def call(url: str, tool: str, arguments: dict):
    return run(url, lambda client: client.call_tool(tool, arguments))


def test_the_tools_are_listed_with_their_arguments(server):
    listed = run(server, lambda client: client.list_tools())
    tools = {tool.name: tool for tool in listed.tools}
    assert {"ask", "search"} <= set(tools)
    assert tools["ask"].input_schema["required"] == ["question"]
    assert set(tools["ask"].input_schema["properties"]) == {"question", "history"}
    assert set(tools["search"].input_schema["properties"]) == {"query", "k"}
    assert "citations" in tools["ask"].description


def test_ask_answers_with_citations_to_the_files(server):
    result = call(server, "ask", {"question": ENVOY})
    assert not result.is_error
    answer = result.structured_content
    assert "Munir Akram" in answer["answer"] and answer["abstained"] is False
    cited = answer["citations"][0]
    assert cited["source"] == ENVOY_SOURCE and cited["title"]
    assert (SEEDS / ENVOY_SOURCE).read_text(encoding="utf-8")[cited["start"] : cited["end"]] == cited["quote"]
    assert json.loads(result.content[0].text) == answer  # the same answer as text, for clients without structure


def test_ask_takes_the_history_of_a_follow_up(server):
    first = call(server, "ask", {"question": NORWAY}).structured_content
    follow_up = call(
        server, "ask", {"question": "What did he say about ISIS?", "history": [[NORWAY, first["answer"]]]}
    ).structured_content
    assert follow_up["citations"][0]["source"] == NORWAY_SOURCE


def test_ask_abstains_when_the_articles_do_not_say(server):
    answer = call(server, "ask", {"question": "Who won the 2022 FIFA World Cup?"}).structured_content
    assert answer["abstained"] is True and answer["citations"] == []


def test_search_returns_the_best_passages_with_their_files(server):
    result = call(server, "search", {"query": "Munir Akram Security Council", "k": 3})
    passages = result.structured_content["passages"]
    assert 1 <= len(passages) <= 3 and passages[0]["source"] == ENVOY_SOURCE
    text = (SEEDS / ENVOY_SOURCE).read_text(encoding="utf-8")
    assert "Munir Akram" in passages[0]["text"] and passages[0]["text"][:40] in text
    assert all(set(p) == {"text", "source", "title", "start", "end"} for p in passages)  # no server paths


@pytest.mark.parametrize(
    ("tool", "arguments", "words"),
    [
        ("ask", {"question": "  "}, "empty"),
        ("ask", {"question": "Why?", "history": [["only a question"]]}, "history"),
        ("search", {"query": "Taliban", "k": 0}, "k must be"),
    ],
)
def test_bad_arguments_are_tool_errors_with_a_message(server, tool, arguments, words):
    result = call(server, tool, arguments)
    assert result.is_error and words in result.content[0].text


def test_login_rules_are_those_of_the_rest_of_the_server(server):
    basic = "Basic " + base64.b64encode(b"bob:pa55").decode()
    assert "ask" in {t.name for t in run(server, lambda c: c.list_tools(), authorization=basic).tools}
    for refused in (None, "Bearer wrong-token", "Basic " + base64.b64encode(b"bob:nope").decode()):
        with pytest.raises(ExceptionGroup) as raised:
            run(server, lambda c: c.list_tools(), authorization=refused)
        assert raised.group_contains(MCPError)
        headers = {"Accept": "application/json, text/event-stream"} | ({"Authorization": refused} if refused else {})
        response = httpx2.post(f"{server}/mcp", json={}, headers=headers)
        assert response.status_code == 401 and response.json() == {"error": "login required"}


def test_a_request_body_over_the_limit_is_refused(server):
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"}
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask"}}
    request["params"]["arguments"] = {"question": "y" * 300_000}  # max_body_bytes is 256 000
    assert httpx2.post(f"{server}/mcp", json=request, headers=headers).status_code == 413
