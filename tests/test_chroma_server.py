"""Server mode: with `chroma_url` set, ingest, ask, re-ingest and delete go to a real `chroma run` server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.cli import main
from rag.errors import RagError
from tests.conftest import write
from tests.servers import free_port, serving

pytestmark = pytest.mark.slow  # a Chroma server and the real model

CHROMA = str(Path(sys.executable).parent / "chroma")
START_TIMEOUT = 60  # seconds; the server usually answers within one or two

HARBOUR = (
    "Harbour Reopens After Storm\n\n"
    "The city harbour reopened on Monday after a week of repairs. "
    "Officials said the storm damaged three piers.\n"
)
BRIDGE = (
    "New Bridge Opens\n\n"
    "The river bridge opened to traffic on Friday. Its engineer, Lena Marsh, said it took four years to build.\n"
)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A `chroma run` server on a free loopback port, storing into a temp folder."""
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [CHROMA, "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, f"{url}/api/v2/heartbeat", folder / "server.log", timeout=START_TIMEOUT):
        yield url


def on_server(tmp_path: Path, url: str, collection: str, corpus: Path) -> Assistant:
    return Assistant(Settings(data_dir=tmp_path / "data", chroma_url=url, collection=collection, corpus=[corpus]))


def test_ingest_ask_reingest_change_and_delete_against_a_server(tmp_path, corpus, chroma_url):
    write(corpus, "harbour.txt", HARBOUR)
    bridge = write(corpus, "bridge.txt", BRIDGE)
    assistant = on_server(tmp_path, chroma_url, "lifecycle", corpus)

    first = assistant.ingest(progress=False)
    assert first.files == 2 and first.embedded == first.chunks > 0
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went into a local index
    answer = assistant.ask("Who is the engineer of the river bridge?")
    assert "Lena Marsh" in answer.answer and answer.citations[0].source == "bridge.txt"

    again = assistant.ingest(progress=False)
    assert again.embedded == 0 and again.sentences_embedded == 0 and again.skipped == first.chunks

    bridge.write_text(BRIDGE.replace("Lena Marsh", "Omar Reyes"), encoding="utf-8")
    changed = assistant.ingest(progress=False)
    assert changed.embedded >= 1 and changed.removed >= 1
    assert "Omar Reyes" in assistant.ask("Who is the engineer of the river bridge?").answer

    bridge.unlink()
    removed = assistant.ingest(progress=False)
    assert removed.removed >= 1
    assert assistant.stats()["articles"] == 1
    texts = assistant.store.vectors.get(include=["documents"])["documents"]
    assert not any("bridge" in t for t in texts)


def test_a_second_machine_sharing_the_server_embeds_nothing_already_there(tmp_path, corpus, chroma_url):
    write(corpus, "harbour.txt", HARBOUR)
    on_server(tmp_path / "first", chroma_url, "shared", corpus).ingest(progress=False)

    second = on_server(tmp_path / "second", chroma_url, "shared", corpus)  # its own, empty record file
    assert second.ask("When did the harbour reopen?").citations[0].source == "harbour.txt"
    report = second.ingest(progress=False)
    assert report.embedded == 0 and report.sentences_embedded == 0 and report.skipped == report.chunks > 0


def test_the_cli_takes_the_server_from_a_flag(tmp_path, corpus, chroma_url, capsys):
    write(corpus, "harbour.txt", HARBOUR)
    flags = ["--data-dir", str(tmp_path / "data"), "--chroma-url", chroma_url, "--collection", "cli"]
    assert main(["ingest", *flags, str(corpus)]) == 0
    assert main(["ask", *flags, "When did the harbour reopen?"]) == 0
    assert "harbour.txt" in capsys.readouterr().out


def test_an_unreachable_server_is_a_clear_error_naming_it(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(RagError, match=f"cannot reach the Chroma server at {url}"):
        Assistant(Settings(data_dir=tmp_path / "data", chroma_url=url)).stats()
    assert main(["ask", "--data-dir", str(tmp_path / "data"), "--chroma-url", url, "Who?"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: cannot reach the Chroma server at " + url) and "Traceback" not in error


def test_a_server_that_dies_after_connecting_is_a_clear_error_and_keeps_the_index(tmp_path, corpus, capsys):
    folder, port = tmp_path / "chroma", free_port()
    url = f"http://127.0.0.1:{port}"
    command = [CHROMA, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    (tmp_path / "logs").mkdir()
    write(corpus, "harbour.txt", HARBOUR)
    with serving(command, f"{url}/api/v2/heartbeat", tmp_path / "logs" / "first.log"):
        assistant = on_server(tmp_path, url, "dying", corpus)
        assistant.ingest(progress=False)
        assert assistant.ask("When did the harbour reopen?").citations
    # The server is gone; the same assistant (e.g. a running `rag serve`) asks again.
    with pytest.raises(RagError, match=f"lost the Chroma server at {url}"):
        assistant.ask("When did the harbour reopen?")
    flags = ["--data-dir", str(tmp_path / "data"), "--chroma-url", url, "--collection", "dying"]
    assert main(["ask", *flags, "When did the harbour reopen?"]) == 2
    assert "Traceback" not in capsys.readouterr().err

    with serving(command, f"{url}/api/v2/heartbeat", tmp_path / "logs" / "second.log"):  # back, same folder
        assert on_server(tmp_path, url, "dying", corpus).ask("When did the harbour reopen?").citations


def test_a_malformed_server_address_is_refused(tmp_path):
    with pytest.raises(RagError, match="not a server address"):
        Assistant(Settings(data_dir=tmp_path / "data", chroma_url="127.0.0.1:8000")).stats()
