"""Shared fixtures: small real corpora on disk, real Chroma in temp folders, the real model or a fake one.

Tests that load the real embedding model (or start servers, or a browser) are marked ``slow``;
the rest use ``HashedEmbeddings``, a deterministic stand-in registered as ``FAKE_MODEL``, so
``pytest -m "not slow"`` runs without loading any weights (checked: a test not marked slow that loads them fails).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

os.environ["HF_HUB_OFFLINE"] = "1"  # the model ships in a package: nothing may reach a hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import rag.embeddings
import rag.multilingual
from rag import Assistant, Settings
from rag.embeddings import register_embeddings

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
GENERAL = Path(__file__).parent / "data" / "general"  # four short articles no model was fitted on
FAKE_MODEL = "hashed-test-embeddings"
_FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for and or but is are was were be been it its this that with as from who "  # noqa: SIM905
    "what when where which why how did do does has have had he she they his her their".split()
)


class HashedEmbeddings(Embeddings):
    """A deterministic fake embedding model: hashed words and character trigrams, normalised.

    Texts that share words (or parts of words: "coach", "coaches") point the same way, unrelated
    texts are near orthogonal, so ranking by meaning behaves like a crude real model; the same text
    gets the same vector in every process. ``calls`` counts the texts embedded.
    """

    dim = 384  # the width of the real model, which the sentence matrix expects

    def __init__(self) -> None:
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return [self._vector(text).tolist() for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim)
        for word in re.findall(r"\w+", text.lower()):
            if word in _FUNCTION_WORDS:
                continue
            self._add(vector, "w:" + word, 1.0)
            padded = f"<{word}>"
            for i in range(len(padded) - 2):
                self._add(vector, "c:" + padded[i : i + 3], 0.3)
        norm = np.linalg.norm(vector)
        if norm == 0:  # no content words: one fixed direction, never a zero vector
            vector[0], norm = 1.0, 1.0
        return vector / norm

    def _add(self, vector: np.ndarray, feature: str, weight: float) -> None:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vector[value % self.dim] += weight if value >> 63 else -weight


FAKE = HashedEmbeddings()
register_embeddings(FAKE_MODEL, FAKE)

_fast_test: list[str] = []  # the id of the running test when it is not marked slow


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _fast_test[:] = [] if item.get_closest_marker("slow") else [item.nodeid]


def _refuse_weights_in_fast_tests(module, name: str) -> None:
    """Wrap a model loader: a test not marked slow that loads weights (itself or through a fixture) fails."""
    load = getattr(module, name)

    def guarded(*args, **kwargs):
        if _fast_test:
            raise AssertionError(f"{_fast_test[0]} loads model weights ({name}): mark it @pytest.mark.slow")
        return load(*args, **kwargs)

    setattr(module, name, guarded)


_refuse_weights_in_fast_tests(rag.embeddings, "_load_embeddings")
_refuse_weights_in_fast_tests(rag.multilingual, "E5Embeddings")


def fake_settings(root: Path, **overrides) -> Settings:
    """Settings of an index in ``root`` embedded by the fake model, without the multilingual model."""
    values = {"data_dir": root / "data", "corpus": [root / "articles"], "embedding_model": FAKE_MODEL}
    return Settings(**({"multilingual_model": "none"} | values | overrides))


@pytest.fixture(scope="session")
def fake_general(tmp_path_factory) -> Assistant:
    """An assistant over a copy of the four general articles, embedded by the fake model, ingested once."""
    root = tmp_path_factory.mktemp("general-fake")
    shutil.copytree(GENERAL, root / "articles")
    assistant = Assistant(fake_settings(root))
    report = assistant.ingest(progress=False)
    assert report.errors == [] and report.files == 4
    return assistant


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
