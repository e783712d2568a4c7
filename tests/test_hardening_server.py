"""A real `rag serve` under bad requests, traversal attempts, hostile articles and load, and while re-ingested."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import SEEDS, write
from tests.servers import RAG, get, post, running_server
from tests.test_untrusted_text import HOSTILE, INJECTION, MARKUP

pytestmark = pytest.mark.slow  # real servers

ENVOY = "Who is Pakistan's envoy to the UN?"
QUESTIONS = {
    ENVOY: "002_663675794b460625.txt",
    "Who is Norway's chargé d'affaires in Afghanistan?": "000_9e119cf1d9bedd41.txt",
    "How many people need humanitarian assistance in Afghanistan?": "004_b3f3967d74f2fce2.txt",
    "Which Iranian minister claimed ISIL leaders moved to Afghanistan?": "003_11207e85c5729a99.txt",
    "How many Shia worshippers were killed in the mosque attack?": "001_7f241891985e0e26.txt",
}
SECRET = "swordfish-7731"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The seeds plus a hostile article, and a secret file beside the corpus that must never be served."""
    root = tmp_path_factory.mktemp("hardening")
    corpus = root / "articles"
    shutil.copytree(SEEDS, corpus)
    write(corpus, "hostile.txt", HOSTILE)
    write(root, "secret.txt", f"Secret\n\nThe admin password is {SECRET}.\n")
    (corpus / "link.txt").symlink_to(root / "secret.txt")  # refused by ingest: points outside the corpus
    data_dir = root / "data"
    result = subprocess.run([RAG, "ingest", "--data-dir", str(data_dir), str(corpus)], capture_output=True, text=True)
    assert result.returncode == 1 and "link.txt" in result.stderr  # everything but the link
    with running_server(data_dir) as url:
        yield url, corpus, data_dir


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": "Who is \u0000 the envoy?"}, "control character U+0000"),
        (b'{"question": "Who is \\ud800 the envoy?"}', "lone surrogate"),
        ({"question": "\u0007\u0008" * 10}, "control character"),
        ({"question": "x" * 100_000}, "limit is"),
        ({"question": "Why?", "history": [["q"]]}, "history"),
        ({"question": "Why?", "history": [["q", 1]]}, "history"),
        ({"question": "Why?", "history": {"q": "a"}}, "history"),
        ({"question": "Why?", "history": [["q", "a\u0000"]]}, "history"),
    ],
)
def test_bad_questions_and_histories_get_a_400_naming_the_problem(site, body, message):
    status, answer = post(f"{site[0]}/api/ask", body)
    assert status == 400 and message in answer["error"]


def test_a_mixed_script_question_is_answered(site):
    status, answer = post(f"{site[0]}/api/ask", {"question": f"{ENVOY} पाकिस्तान का राजदूत 大使 Посол"})
    assert status == 200 and "Munir Akram" in answer["answer"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/articles/../secret.txt",
        "/api/articles/..%2Fsecret.txt",
        "/api/articles/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/articles/%2Fetc%2Fpasswd",
        "/api/articles/%2e%2e%2fsecret.txt",
        "/api/articles/secret.txt",
        "/api/articles/link.txt",
        "/api/articles/%00",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../secret.txt",
        "/file=/etc/passwd",
        "/static/..%2F..%2F..%2Fetc%2Fpasswd",
        "/assets/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_file_routes_serve_only_indexed_articles(site, path):
    status, body = get(site[0] + path)
    assert status in (400, 403, 404, 405), (status, body[:200])
    assert SECRET.encode() not in body and b"root:x:0:0" not in body


def test_an_indexed_article_is_served_by_its_file_name(site):
    status, page = get(f"{site[0]}/api/articles/hostile.txt")
    assert status == 200 and b"&lt;script&gt;" in page and b"<script>" not in page


def test_the_json_api_returns_hostile_text_as_plain_strings(site):
    status, answer = post(f"{site[0]}/api/ask", {"question": "What did the harbour master say about the storm?"})
    assert status == 200
    assert MARKUP in [c["quote"] for c in answer["citations"]]  # verbatim: not escaped
    quotes = " ".join(f"“{c['quote']}” [{c['n']}]" for c in answer["citations"])
    if answer["short_answer"] is None:
        quotes = " ".join(f"{c['quote']} [{c['n']}]" for c in answer["citations"])
    assert answer["answer"].endswith(quotes)  # the quotes verbatim, after the short answer if there is one
    status, answer = post(f"{site[0]}/api/ask", {"question": "What does the harbour council notice say?"})
    assert status == 200 and INJECTION not in [c["quote"] for c in answer["citations"]]  # an order is never an answer


def test_fifty_simultaneous_requests_all_succeed_with_correct_answers(site):
    asked = list(QUESTIONS) * 10
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda q: post(f"{site[0]}/api/ask", {"question": q}), asked))
    for question, (status, answer) in zip(asked, results, strict=True):
        assert status == 200, answer
        assert answer["citations"][0]["source"] == QUESTIONS[question]


def test_an_ingest_by_another_process_is_picked_up_while_serving(site):
    """Questions keep working during `rag ingest`; afterwards the server answers from the new article."""
    url, corpus, data_dir = site
    write(
        corpus,
        "lighthouse.txt",
        "Lighthouse Restored\n\nThe Kestrel Point lighthouse was relit on 4 May by Mira Olsen.\n",
    )
    stop = threading.Event()
    statuses: list[int] = []

    def keep_asking():
        while not stop.is_set():
            statuses.append(post(f"{url}/api/ask", {"question": ENVOY})[0])

    askers = [threading.Thread(target=keep_asking) for _ in range(3)]
    for asker in askers:
        asker.start()
    try:
        result = subprocess.run(
            [RAG, "ingest", "--data-dir", str(data_dir), str(corpus)], capture_output=True, text=True, timeout=600
        )
    finally:
        stop.set()
        for asker in askers:
            asker.join(timeout=120)
    assert result.stdout.startswith("7 files, ") and "lighthouse" not in result.stderr
    assert statuses and set(statuses) == {200}
    status, answer = post(f"{url}/api/ask", {"question": "Who relit the Kestrel Point lighthouse?"})
    assert status == 200 and answer["citations"][0]["source"] == "lighthouse.txt"  # BM25 and vectors are fresh
    assert json.loads(get(f"{url}/api/health")[1])["articles"] == 7


PROTECTED = [
    ("GET", "/"),
    ("GET", "/config"),
    ("GET", "/theme.css"),
    ("GET", "/manifest.json"),
    ("GET", "/monitoring"),
    ("GET", "/gradio_api/info"),
    ("GET", "/gradio_api/file=/etc/passwd"),
    ("GET", "/assets/index.js"),
    ("POST", "/gradio_api/queue/join"),
    ("POST", "/gradio_api/call/chat"),
    ("POST", "/gradio_api/upload"),
    ("POST", "/login"),
    ("POST", "/api/ask"),
    ("GET", "/api/articles/002_663675794b460625.txt"),
    ("GET", "/api/articles/..%2Fsecret.txt"),
    ("GET", "/no/such/route"),
]


def test_with_a_login_every_route_but_health_needs_it(site):
    _, _, data_dir = site
    token = base64.b64encode(b"alice:s3cret").decode()
    with running_server(data_dir, "--auth", "alice:s3cret") as url:
        for method, path in PROTECTED:
            if method == "GET":
                status, body = get(url + path)
            else:
                status, body = post(url + path, b"{}", {"Content-Type": "application/json"})
                body = json.dumps(body).encode()
            assert status == 401, (method, path, status)
            assert SECRET.encode() not in body and b"Munir" not in body
        assert get(f"{url}/api/health")[0] == 200
        authorised = {"Authorization": f"Basic {token}"}
        assert get(f"{url}/api/articles/002_663675794b460625.txt", authorised)[0] == 200
        assert get(f"{url}/gradio_api/info", authorised)[0] == 200
