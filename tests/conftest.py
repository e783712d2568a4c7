"""Shared fixtures: small real corpora on disk, real Chroma in temp folders, the real model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # the model ships in a package: nothing may reach a hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from rag import Assistant, Settings

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Assistant:
    """An assistant over a copy of the five seed articles, ingested once for the session."""
    root = tmp_path_factory.mktemp("seeded")
    corpus = root / "seeds"
    shutil.copytree(SEEDS, corpus)
    assistant = Assistant(Settings(data_dir=root / "data", corpus=[corpus]))
    report = assistant.ingest(progress=False)
    assert report.errors == [] and report.files == 5
    return assistant


@pytest.fixture
def corpus(tmp_path) -> Path:
    """An empty folder to write small articles into."""
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


@pytest.fixture
def assistant(tmp_path, corpus) -> Assistant:
    """An assistant with its own empty index, reading ``corpus`` by default."""
    return Assistant(Settings(data_dir=tmp_path / "data", corpus=[corpus]))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
