"""`rag ingest` on a terminal shows a progress bar (files, texts/s, time left); piped, it stays quiet."""

from __future__ import annotations

import os
import pty
import subprocess
import termios

import pytest

from tests.conftest import SEEDS
from tests.servers import RAG

pytestmark = pytest.mark.slow  # the `rag` CLI ingests with the real model


def run_ingest(data_dir, stderr) -> subprocess.CompletedProcess:
    command = [RAG, "ingest", "--data-dir", str(data_dir), str(SEEDS)]
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=stderr, env=env, timeout=600, check=True)


def test_a_terminal_sees_files_texts_per_second_and_the_time_left(tmp_path):
    leader, follower = pty.openpty()  # stderr is a terminal, as for a user typing the command
    termios.tcsetwinsize(follower, (24, 120))  # a new pty is 0 columns wide: the bar would be cut to nothing
    try:
        run_ingest(tmp_path / "data", follower)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    bar = shown.decode(errors="replace")
    assert "5/5" in bar and "file" in bar and "texts/s" in bar
    assert "<00:00" in bar  # the time left, counted down to zero


def test_piped_output_has_no_bar(tmp_path):
    done = run_ingest(tmp_path / "data", subprocess.PIPE)
    assert done.stderr.decode() == "" and "5 files" in done.stdout.decode()
