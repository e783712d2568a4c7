"""Storage faults with real processes: `data_dir` on a small tmpfs that fills up during an ingest and
while `rag serve` runs, a read-only `data_dir`, and a store that stops answering mid-question.

What must hold: a clear message naming the cause and `data_dir` (exit code 2, HTTP 503), no
traceback anywhere, `/api/health` answering within a second throughout, an ingest after the fault
succeeding while the same server keeps running, and the final index equal to a clean ingest.
Mounting needs root: without it these tests are skipped, saying so.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.errors import StorageError
from rag.store import all_ids
from tests.conftest import REPO, SEEDS, write
from tests.servers import RAG, free_port, ingest, post, running_server, serving

pytestmark = pytest.mark.slow  # real servers and the real model

ENV = os.environ | {"HF_HUB_OFFLINE": "1"}
DISK = "24m"  # the seeds' index takes ~2.5 MB
LEAVE = 300 * 1024  # bytes left free: the next ingest starts writing and runs out
ENVOY = "Who is Pakistan's envoy to the UN?"
CHROMA = str(Path(sys.executable).parent / "chroma")


@pytest.fixture
def disk(tmp_path):
    """A tmpfs of ``DISK`` bytes, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}): the disk-fault tests need root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)


def fill_up(folder: Path, leave: int = 0) -> Path:
    """Write a file until the device is full, then give back ``leave`` bytes."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as full:
        assert full.errno == errno.ENOSPC
    finally:
        os.close(fd)
    os.truncate(filler, max(filler.stat().st_size - leave, 0))
    return filler


def rag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RAG, *args], capture_output=True, text=True, env=ENV, timeout=600)


def index_ids(data_dir: Path) -> tuple[list[str], list[str]]:
    store = Assistant(Settings(data_dir=data_dir)).store
    return sorted(all_ids(store.vectors)), sorted(all_ids(store.sentence_vectors))


def can_lock(path: Path, within: float) -> bool:
    """Whether an ingest could take the index lock within ``within`` seconds."""
    deadline = time.monotonic() + within
    with open(path, "a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.1)


# Polls the health URL from its own process, so the timings are the server's, not this test process's
# (whose heap, models and garbage collections grow over the suite): one JSON line per probe, until
# the stop file appears or MAX_WATCH seconds pass.
POLLER = """
import json, sys, time, urllib.request
from pathlib import Path
url, out, stop, limit = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), time.monotonic() + float(sys.argv[4])
with out.open("a") as log:
    while not stop.exists() and time.monotonic() < limit:
        began = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                status, body = response.status, json.loads(response.read())
        except Exception as failed:  # a refused or timed-out probe is recorded as a failure
            status, body = 0, repr(failed)
        log.write(json.dumps([time.monotonic() - began, status, body]) + "\\n")
        log.flush()
        time.sleep(0.2)
"""
MAX_WATCH = 600


class HealthWatch:
    """Polls /api/health in the background; remembers every answer and how long it took."""

    def __init__(self, url: str, folder: Path):
        self.url = f"{url}/api/health"
        self.log, self.stop = folder / "health.jsonl", folder / "health.stop"

    def __enter__(self):
        self.log.write_text("")
        command = [sys.executable, "-c", POLLER, self.url, str(self.log), str(self.stop), str(MAX_WATCH)]
        self._poller = subprocess.Popen(command)
        return self

    def __exit__(self, *_):
        self.stop.touch()
        try:
            self._poller.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._poller.kill()
            self._poller.wait()

    @property
    def seen(self) -> list[tuple[float, int, dict | str]]:
        lines = self.log.read_text().splitlines()
        return [tuple(json.loads(line)) for line in lines if line.endswith("]")]

    def latest(self) -> dict:
        return self.seen[-1][2]

    def wait_for(self, status: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.seen
            if seen and isinstance(seen[-1][2], dict) and seen[-1][2]["status"] == status:
                return seen[-1][2]
            time.sleep(0.2)
        raise AssertionError(f"health never said {status!r}: {self.seen[-3:]}")

    def assert_always_answered_within(self, seconds: float) -> None:
        seen = self.seen
        assert len(seen) > 10
        slow = [(round(t, 2), status) for t, status, _ in seen if t >= seconds or status != 200]
        assert slow == [], f"{len(slow)} of {len(seen)} health probes slow or failed"


def test_a_disk_that_fills_during_an_ingest_and_while_serving(disk, tmp_path):
    corpus = tmp_path / "articles"
    shutil.copytree(SEEDS, corpus)
    data = disk / "data"
    ingest(data, corpus)
    subprocess.run([sys.executable, str(REPO / "bench" / "corpus.py"), "8", str(corpus / "new")], check=True)
    fact = json.loads((corpus / "new" / "facts.jsonl").read_text().splitlines()[0])
    no_space = f"no space left on the device holding {data}/"

    with (
        running_server(data, "--store-timeout", "5", "--lock-timeout", "5") as url,
        HealthWatch(url, tmp_path) as health,
    ):
        assert health.wait_for("ok")["articles"] == 5
        filler = fill_up(disk, leave=LEAVE)

        failed = rag("ingest", "--data-dir", str(data), str(corpus))  # runs out of space part-way
        assert failed.returncode == 2, failed.stderr
        assert failed.stderr == f"error: {no_space}; nothing indexed is lost: fix that, then run `rag ingest` again\n"

        status, answer = post(f"{url}/api/ask", {"question": ENVOY})  # reads may still work; never a 500
        assert (status, answer.get("error", no_space).startswith(no_space)) in {(200, True), (503, True)}
        assert health.wait_for("degraded")["problem"].startswith(no_space)
        asked = rag("ask", "--data-dir", str(data), ENVOY)
        assert asked.returncode in (0, 2) and "Traceback" not in asked.stderr
        assert asked.returncode == 0 or asked.stderr.startswith(f"error: {no_space}")

        filler.unlink()  # space is back: the same server keeps running
        done = rag("ingest", "--data-dir", str(data), str(corpus))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("13 files,")
        status, answer = post(f"{url}/api/ask", {"question": fact["question"]})
        assert status == 200 and answer["citations"][0]["source"] == f"new/{fact['source']}"
        assert fact["answer"] in answer["answer"]
        assert health.wait_for("ok")["articles"] == 13
    health.assert_always_answered_within(1.0)

    ingest(tmp_path / "clean", corpus)
    assert index_ids(data) == index_ids(tmp_path / "clean")


def test_a_read_only_data_dir_is_named_as_such(disk, tmp_path, corpus):
    write(corpus, "harbour.txt", "Harbour Reopens\n\nThe harbour of Velmora reopened on Monday after the storm.\n")
    data = disk / "data"
    ingest(data, corpus)
    write(corpus, "bridge.txt", "Bridge Vote\n\nThe council of Dunmere voted 7 to 2 to rebuild the stone bridge.\n")
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    failed = rag("ingest", "--data-dir", str(data), str(corpus))
    assert failed.returncode == 2
    assert failed.stderr.startswith(f"error: the device holding {data}/ is read-only; nothing indexed is lost")
    asked = rag("ask", "--data-dir", str(data), "When did the harbour of Velmora reopen?")
    assert asked.returncode in (0, 2) and "Traceback" not in asked.stderr, asked.stderr


@pytest.fixture
def frozen_store(tmp_path):
    """A `chroma run` server holding a small index, which the test can stop (SIGSTOP) and resume."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [CHROMA, "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "chroma.log"
    with serving(command, f"{url}/api/v2/heartbeat", log, timeout=60) as process:
        try:
            yield url, process.pid
        finally:
            os.kill(process.pid, signal.SIGCONT)  # so that it can be stopped


def test_a_store_that_stops_answering_frees_the_lock_and_recovers(frozen_store, tmp_path):
    """Chroma's client waits forever on a stopped server: the question must not, nor hold the index lock."""
    url_chroma, server = frozen_store
    data = tmp_path / "data"
    result = rag("ingest", "--data-dir", str(data), "--chroma-url", url_chroma, str(SEEDS))
    assert result.returncode == 0, result.stderr
    with (
        running_server(data, "--chroma-url", url_chroma, "--store-timeout", "3") as url,
        HealthWatch(url, tmp_path) as health,
    ):
        assert post(f"{url}/api/ask", {"question": ENVOY})[0] == 200
        os.kill(server, signal.SIGSTOP)
        status, answer = post(f"{url}/api/ask", {"question": ENVOY})
        assert status == 503
        assert answer["error"].startswith(f"the index store in {data}/ did not answer within 3 s")
        assert health.wait_for("degraded")["problem"].startswith("the index store")
        assert can_lock(data / "index.lock", within=3 + 2)  # stuck readers lose the lock after store_timeout
        os.kill(server, signal.SIGCONT)
        status, answer = post(f"{url}/api/ask", {"question": ENVOY})
        assert status == 200 and answer["citations"][0]["source"] == "002_663675794b460625.txt"
        health.wait_for("ok")
    health.assert_always_answered_within(1.0)


def test_a_locked_index_makes_a_question_fail_in_bounded_time_and_an_ingest_say_what_it_waits_for(assistant, corpus):
    write(corpus, "harbour.txt", "Harbour Reopens\n\nThe harbour of Velmora reopened on Monday after the storm.\n")
    assistant.ingest(progress=False)
    data = assistant.settings.data_dir
    with open(data / "index.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as an ingest's writes would
        patient = Assistant(assistant.settings.model_copy(update={"lock_timeout": 1.0}))
        with pytest.raises(StorageError) as refused:
            patient.ask("When did the harbour of Velmora reopen?")
        assert str(refused.value).startswith(f"the index in {data}/ stayed locked for 1 s by process {os.getpid()} (")

        waiting = subprocess.Popen(
            [RAG, "ingest", "--data-dir", str(data), str(corpus)], stderr=subprocess.PIPE, text=True, env=ENV
        )
        said = waiting.stderr.readline()  # printed once, after a second of waiting
        assert said.startswith(f"waiting for the index lock {data}/index.lock, held by process {os.getpid()} (")
    _, rest = waiting.communicate(timeout=600)  # the lock is free: it goes on
    assert waiting.returncode == 0, rest
