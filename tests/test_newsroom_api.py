"""The newsroom routes against a real `rag serve`: upload, list, remove, filters on /api/ask, feedback, login.

Uploads go through httpx's multipart encoder, as any HTTP client would send them.
"""

from __future__ import annotations

import base64
import io
import json
import stat
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.servers import ingest, running_server
from tests.test_filters import DATED, PIERS

pytestmark = pytest.mark.slow  # a real server

OWN_ARTICLE = "Port Authority Notice\n\nThe port authority said the ferry timetable changes on Sunday for the winter.\n"
UPLOAD_LIMIT = 200_000


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory):
    """A server whose index holds one article from the user's own folder; the rest is uploaded by the tests."""
    root = tmp_path_factory.mktemp("newsroom-api")
    own = root / "own"
    own.mkdir()
    (own / "ferry.txt").write_text(OWN_ARTICLE, encoding="utf-8")
    data_dir = root / "data"
    ingest(data_dir, own)
    limits = ["--max-upload-bytes", str(UPLOAD_LIMIT), "--max-upload-files", "5", "--max-file-bytes", "100000"]
    with running_server(data_dir, *limits) as url:
        yield url, data_dir, own


def upload(url: str, files: list[tuple[str, bytes]], **kwargs) -> httpx.Response:
    return httpx.post(
        f"{url}/api/articles",
        files=[("files", (n, d, "application/octet-stream")) for n, d in files],
        timeout=300,
        **kwargs,
    )


def zipped(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def test_uploaded_articles_are_listed_and_answer_at_once(newsroom):
    url, data_dir, _ = newsroom
    two = [(n, DATED[n].encode()) for n in ("coast-feb.md", "ledger-mar.txt")]
    added = upload(url, [*two, ("apr.zip", zipped({"coast-apr.txt": DATED["coast-apr.txt"].encode()}))])
    assert added.status_code == 200, added.text
    body = added.json()
    assert sorted(a["name"] for a in body["added"]) == ["coast-apr.txt", "coast-feb.md", "ledger-mar.txt"]
    assert body["errors"] == [] and "3 files" in body["summary"]
    assert sorted(p.name for p in (data_dir / "corpus").iterdir()) == sorted(DATED)

    listed = httpx.get(f"{url}/api/articles", timeout=60).json()
    by_source = {a["source"]: a for a in listed}
    assert by_source["coast-feb.md"] | {"chunks": 0} == {
        "source": "coast-feb.md",
        "title": "Storm Closes Piers",
        "date": "2025-02-11",
        "outlet": "Coast Times",
        "url": "https://coast.example/piers",
        "author": None,
        "chunks": 0,
        "uploaded": True,
    }
    assert by_source["ferry.txt"]["date"] is None and by_source["ferry.txt"]["uploaded"] is False
    assert [a["date"] for a in listed][:3] == ["2025-04-20", "2025-03-02", "2025-02-11"]  # newest first
    searched = httpx.get(f"{url}/api/articles", params={"q": "daily ledger"}, timeout=60).json()
    assert [a["source"] for a in searched] == ["ledger-mar.txt"]

    answer = httpx.post(f"{url}/api/ask", json={"question": PIERS, "outlets": ["Daily Ledger"]}, timeout=120).json()
    assert {c["source"] for c in answer["citations"]} == {"ledger-mar.txt"}
    assert answer["citations"][0]["outlet"] == "Daily Ledger" and answer["citations"][0]["date"] == "2025-03-02"
    dated = {"question": PIERS, "since": "2025-02-01", "until": "2025-02-28"}
    answer = httpx.post(f"{url}/api/ask", json=dated, timeout=120).json()
    assert {c["source"] for c in answer["citations"]} == {"coast-feb.md"}
    assert "(11 Feb 2025)" in answer["answer"]

    page = httpx.get(f"{url}/api/articles/coast-feb.md", params={"start": 0, "end": 3}, timeout=60)
    assert page.status_code == 200 and 'href="https://coast.example/piers"' in page.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": PIERS, "since": "soon"}, "since 'soon' is not a date"),
        ({"question": PIERS, "outlets": 5}, "outlets must be a list"),
        ({"question": PIERS, "since": "2025-03-01", "until": "2025-01-01"}, "is after until"),
    ],
)
def test_bad_filters_on_ask_are_400(newsroom, body, message):
    url, _, _ = newsroom
    response = httpx.post(f"{url}/api/ask", json=body, timeout=60)
    assert response.status_code == 400 and message in response.json()["error"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("binary.txt", b"\x00\x01\x02 not text")], "binary.txt: contains NUL bytes"),
        ([("latin.txt", "Caf\xe9 news about the harbour".encode("latin-1"))], "latin.txt: not valid UTF-8"),
        ([("empty.md", b"  \n\n")], "empty.md: empty file"),
        ([("report.pdf", b"%PDF-1.4")], "report.pdf: not a .txt or .md file"),
        ([("broken.zip", b"PK\x03\x04 not really")], "broken.zip: not a valid .zip archive"),
        ([("escape.zip", zipped({"../outside.txt": b"Harbour news.\n"}))], "points outside the archive"),
        ([("absolute.zip", zipped({"/etc/cron.txt": b"Harbour news.\n"}))], "points outside the archive"),
        ([("link.zip", zipped({"ok.txt": b"Harbour news today.\n"}, {"passwd.txt": "/etc/passwd"}))], "symbolic link"),
        ([("big.txt", b"Harbour news. " * 10_000)], "big.txt: 140000 bytes is larger than the 100000-byte limit"),
        ([("..", b"Harbour news.\n")], "not a usable file name"),
    ],
)
def test_unusable_uploads_are_refused_with_the_ingest_message_and_nothing_is_kept(newsroom, files, message):
    url, data_dir, _ = newsroom
    before = sorted(p.name for p in (data_dir / "corpus").glob("**/*")) if (data_dir / "corpus").exists() else []
    response = upload(url, files)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]
    after = sorted(p.name for p in (data_dir / "corpus").glob("**/*")) if (data_dir / "corpus").exists() else []
    assert after == before
    assert not (data_dir.parent / "outside.txt").exists()


def test_a_good_file_beside_a_bad_one_is_added_and_the_bad_one_named(newsroom):
    url, _, _ = newsroom
    response = upload(
        url,
        [
            ("tide.txt", b"Tide Tables\n\nHigh tide on Sunday is at 06:40, the harbour office said.\n"),
            ("junk.txt", b"\x00junk"),
        ],
    )
    assert response.status_code == 200
    assert [a["source"] for a in response.json()["added"]] == ["tide.txt"]
    assert any(e.startswith("junk.txt: contains NUL bytes") for e in response.json()["errors"])


def test_uploads_over_the_limits_are_413(newsroom):
    url, _, _ = newsroom
    too_big = upload(url, [(f"part{i}.txt", b"Harbour news. " * 7_000) for i in range(3)])  # 294 000 bytes
    assert too_big.status_code == 413 and "max_upload_bytes" in too_big.json()["error"]
    too_many = upload(url, [(f"n{i}.txt", f"Note {i}\n\nThe harbour note number {i}.\n".encode()) for i in range(6)])
    assert too_many.status_code == 413 and "max_upload_files" in too_many.json()["error"]
    bomb = zipped({f"z{i}.txt": b"a" * 90_000 for i in range(3)})  # small packed, 270 000 bytes unpacked
    unpacked = upload(url, [("bomb.zip", bomb)])
    assert unpacked.status_code == 413 and "unpacks to more than" in unpacked.json()["error"]
    not_multipart = httpx.post(f"{url}/api/articles", json={"files": []}, timeout=60)
    assert not_multipart.status_code == 400 and "multipart" in not_multipart.json()["error"]


def test_removing_an_uploaded_article_deletes_its_copy_and_a_users_file_is_kept(newsroom):
    url, data_dir, own = newsroom
    upload(
        url, [("gone.txt", b"Lighthouse Closed\n\nThe old lighthouse closed for good on Tuesday, the council said.\n")]
    )
    assert (data_dir / "corpus" / "gone.txt").exists()
    removed = httpx.delete(f"{url}/api/articles/gone.txt", timeout=120)
    assert removed.status_code == 200
    assert removed.json()["file_deleted"] is True and removed.json()["chunks"] == 1
    assert not (data_dir / "corpus" / "gone.txt").exists()
    assert "gone.txt" not in {a["source"] for a in httpx.get(f"{url}/api/articles", timeout=60).json()}
    answer = httpx.post(f"{url}/api/ask", json={"question": "When did the old lighthouse close?"}, timeout=120).json()
    assert "gone.txt" not in {c["source"] for c in answer["citations"]}

    kept = httpx.delete(f"{url}/api/articles/ferry.txt", timeout=120).json()
    assert kept["file_deleted"] is False and "kept" in kept["message"]
    assert (own / "ferry.txt").exists()

    missing = httpx.delete(f"{url}/api/articles/no-such-article.txt", timeout=60)
    assert missing.status_code == 404 and "not an indexed article" in missing.json()["error"]
    traversal = httpx.delete(f"{url}/api/articles/..%2F..%2Fetc%2Fpasswd", timeout=60)
    assert traversal.status_code == 404


def test_feedback_is_appended_with_time_and_index_generation(newsroom):
    url, data_dir, _ = newsroom
    given = {
        "question": PIERS,
        "answer": "The harbour master said the storm closed three piers. [1]",
        "verdict": "down",
        "history": [["Hello?", "Hi."]],
        "citations": [{"n": 1, "source": "coast-feb.md", "quote": "…", "start": 1, "end": 2, "evil": {"x": 1}}],
        "correction": "seven piers",
    }
    response = httpx.post(f"{url}/api/feedback", json=given, timeout=60)
    assert response.status_code == 200, response.text
    lines = (data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    stored = json.loads(lines[-1])
    assert stored["id"] == response.json()["stored"]
    assert stored["generation"] == (data_dir / "generation").read_text()
    assert stored["time"].startswith("20") and stored["correction"] == "seven piers"
    assert stored["citations"] == [{"n": 1, "source": "coast-feb.md", "quote": "…", "start": 1, "end": 2}]
    httpx.post(f"{url}/api/feedback", json=given | {"verdict": "up", "correction": None}, timeout=60)
    assert len((data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()) == len(lines) + 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "malformed JSON"),
        (b"[]", "must be a JSON object"),
        (json.dumps({"question": "q", "answer": "a", "verdict": "meh"}).encode(), '"verdict" must be "up" or "down"'),
        (json.dumps({"answer": "a", "verdict": "up"}).encode(), '"question"'),
        (json.dumps({"question": "q", "answer": "a", "verdict": "up", "history": "x"}).encode(), '"history"'),
        (json.dumps({"question": "q", "answer": "a", "verdict": "up", "correction": 5}).encode(), '"correction"'),
    ],
)
def test_bad_feedback_is_400_and_stores_nothing(newsroom, body, message):
    url, data_dir, _ = newsroom
    path = data_dir / "feedback.jsonl"
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    response = httpx.post(f"{url}/api/feedback", content=body, timeout=60)
    assert response.status_code == 400 and message in response.json()["error"]
    assert (path.read_text(encoding="utf-8") if path.exists() else "") == before


def test_every_newsroom_route_needs_the_login(tmp_path):
    data_dir = tmp_path / "data"
    own = tmp_path / "own"
    own.mkdir()
    (own / "ferry.txt").write_text(OWN_ARTICLE, encoding="utf-8")
    ingest(data_dir, own)
    with running_server(data_dir, "--auth", "editor:s3cret") as url:
        calls = [
            ("GET", "/api/articles", {}),
            ("POST", "/api/articles", {"files": [("files", ("a.txt", b"Harbour news today.\n", "text/plain"))]}),
            ("DELETE", "/api/articles/ferry.txt", {}),
            ("POST", "/api/feedback", {"json": {"question": "q", "answer": "a", "verdict": "up"}}),
        ]
        for method, path, extra in calls:
            response = httpx.request(method, url + path, timeout=60, **extra)
            assert response.status_code == 401, (method, path)
        assert not (data_dir / "feedback.jsonl").exists() and not (data_dir / "corpus").exists()
        login = {"Authorization": "Basic " + base64.b64encode(b"editor:s3cret").decode()}
        assert httpx.get(f"{url}/api/articles", headers=login, timeout=60).json()[0]["source"] == "ferry.txt"
        assert Path(own / "ferry.txt").exists()
