"""A real `rag serve` against hostile request bodies, uploads it has no use for, and odd article ids."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from tests.conftest import write
from tests.servers import get, ingest, post, running_server

pytestmark = pytest.mark.slow  # a real server

HARBOUR = "Harbour Reopens\n\nThe harbour of Velmora reopened on Monday after the storm closed three piers.\n"
BRIDGE = "Bridge Vote\n\nThe council of Dunmere voted 7 to 2 to rebuild the old stone bridge by 2028.\n"
DEEP = "[" * 10_000 + "]" * 10_000


UPLOAD_CAP = 4096  # bytes: the page's upload input (articles) takes files up to this size


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two articles both named report.txt (in a/ and b/), and one that is moved away after the ingest."""
    root = tmp_path_factory.mktemp("requests")
    corpus = root / "articles"
    for folder, text in (("a", HARBOUR), ("b", BRIDGE)):
        (corpus / folder).mkdir(parents=True)
        write(corpus / folder, "report.txt", text)
    write(corpus, "moved.txt", "School Opens\n\nA new school for 400 pupils opened in Arkley on Friday.\n")
    ingest(root / "data", corpus)
    shutil.move(corpus / "moved.txt", root / "moved-away.txt")
    with running_server(root / "data", "--max-upload-bytes", str(UPLOAD_CAP)) as url:
        yield url, root


@pytest.mark.parametrize("route", ["/api/ask", "/api/ask/stream"])
@pytest.mark.parametrize(
    "body, message",
    [
        (DEEP, "malformed JSON: nested more than 32 levels deep"),
        ('{"question": "Who?", "history": ' + DEEP + "}", "malformed JSON: nested more than 32 levels deep"),
        ('{"question": "Who?", "n": ' + "1" * 100_000 + "}", "malformed JSON: a number 100000 characters long"),
        ('{"question": "Who?", "n": NaN}', "malformed JSON: NaN is not a JSON number"),
    ],
)
def test_hostile_json_is_a_400_naming_the_problem(site, route, body, message):
    status, answer = post(site[0] + route, body.encode())
    assert status == 400 and answer["error"].startswith(message), answer


def test_the_same_file_name_in_two_folders_opens_two_articles(site):
    status, answer = post(f"{site[0]}/api/ask", {"question": "How did the council of Dunmere vote on the bridge?"})
    cited = answer["citations"][0]
    assert status == 200 and cited["source"] == "b/report.txt"
    for path in ("/api/articles/b/report.txt", "/api/articles/b%2Freport.txt"):
        status, page = get(f"{site[0]}{path}?start={cited['start']}&end={cited['end']}")
        assert status == 200 and b"Dunmere" in page and b"Velmora" not in page
    status, page = get(f"{site[0]}/api/articles/a/report.txt")
    assert status == 200 and b"Velmora" in page
    for path in (
        "/api/articles/a/../b/report.txt",
        "/api/articles/a/..%2F..%2Fmoved-away.txt",
        "/api/articles/report.txt",
    ):
        assert get(site[0] + path)[0] == 404


def test_a_moved_article_is_a_404_that_does_not_show_the_machine_s_paths(site):
    url, root = site
    status, body = get(f"{url}/api/articles/moved.txt")
    assert status == 404
    assert json.loads(body) == {
        "error": "moved.txt: the article file cannot be read (cannot read (No such file or directory)); ingest it again"
    }
    assert str(root).encode() not in body


def test_gradio_uploads_larger_than_the_cap_are_refused(site):
    """Gradio's upload route (the page's article upload uses it) stores no file over ``max_upload_bytes``."""
    boundary = "x7Fq"
    payload = b"x" * 10_000
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{site[0]}/gradio_api/upload",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as refused:
        status, answer = refused.code, refused.read()
    assert 400 <= status < 500, (status, answer)
