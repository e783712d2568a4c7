"""`rag articles list|remove` and `rag ask --since/--until/--outlet`, as a user types them."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import write
from tests.servers import RAG
from tests.test_filters import DATED, PIERS

pytestmark = pytest.mark.slow  # the `rag` CLI ingests with the real model

ENV = os.environ | {"HF_HUB_OFFLINE": "1"}


def rag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RAG, *args], capture_output=True, text=True, env=ENV, timeout=300)


def test_list_filter_and_remove_from_the_command_line(tmp_path):
    corpus = tmp_path / "articles"
    corpus.mkdir()
    for name, text in DATED.items():
        write(corpus, name, text)
    data = ["--data-dir", str(tmp_path / "data")]
    assert rag("ingest", *data, str(corpus)).returncode == 0

    listed = rag("articles", "list", *data)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("2025-04-20  Coast Times") and lines[-1] == "3 articles"
    found = json.loads(rag("articles", "list", "ledger", "--json", *data).stdout)
    assert [(a["source"], a["outlet"], a["date"]) for a in found] == [("ledger-mar.txt", "Daily Ledger", "2025-03-02")]

    asked = rag("ask", *data, "--json", "--outlet", "Coast Times", "--until", "2025-03-31", PIERS)
    assert asked.returncode == 0, asked.stderr
    assert {c["source"] for c in json.loads(asked.stdout)["citations"]} == {"coast-feb.md"}
    shown = rag("ask", *data, "--outlet", "Daily Ledger", PIERS).stdout
    assert "(ledger-mar.txt, chars" in shown and "Daily Ledger, 2025-03-02)" in shown
    bad = rag("ask", *data, "--since", "someday", PIERS)
    assert bad.returncode == 2 and "since 'someday' is not a date" in bad.stderr

    removed = rag("articles", "remove", *data, "ledger-mar.txt")
    assert removed.returncode == 0 and "the file itself was kept" in removed.stdout
    assert (corpus / "ledger-mar.txt").exists()
    assert "ledger-mar.txt" not in rag("articles", "list", *data).stdout
    missing = rag("articles", "remove", *data, "ledger-mar.txt")
    assert missing.returncode == 2 and "not an indexed article" in missing.stderr
