"""The sentence-transformers model, loaded from an installed package so nothing touches a hub."""

from __future__ import annotations

import importlib
import os
import threading
from functools import lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

from rag.errors import RagError


def model_path(name: str) -> Path:
    """Resolve ``name``: a local model folder, or a package exposing ``get_model_path()``."""
    if Path(name).is_dir():
        return Path(name)
    module_name = name.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RagError(
            f"embedding model {name!r} is neither a folder nor an installed package ({module_name})"
        ) from exc
    getter = getattr(module, "get_model_path", None)
    if getter is None:
        raise RagError(f"package {module_name} does not ship a model (no get_model_path())")
    return Path(getter())


@lru_cache(maxsize=2)
def load_embeddings(name: str, batch_size: int = 32) -> Embeddings:
    """One model per process: loading costs seconds, every caller shares it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from langchain_huggingface import HuggingFaceEmbeddings  # imports torch: keep it lazy
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

    return SerialEmbeddings(
        HuggingFaceEmbeddings(
            model_name=str(model_path(name)),
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
        )
    )


class SerialEmbeddings(Embeddings):
    """One call at a time: the Rust tokenizer behind the model raises "Already borrowed" when two
    threads (two web requests) encode at once. The model uses every core per call anyway."""

    def __init__(self, model: Embeddings):
        self.model = model
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return self.model.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self.model.embed_query(text)
