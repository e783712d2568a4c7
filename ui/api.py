"""The JSON API: the same ``Assistant.ask`` as the CLI, with errors as JSON 4xx, never a trace.

Routes raise :class:`rag.errors.RagError`; ``ui.errors`` turns each into its status from the one
error table (``rag.errors.TABLE``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, StreamingResponse

from rag import Assistant, RagError
from rag.errors import InvalidInput, TooLarge
from rag.filters import ArticleFilter
from rag.response import Response
from rag.safejson import loads
from rag.store import Store
from ui.health import HealthProbe
from ui.render import article_page

POLL = 0.5  # seconds between looks at whether a question's store read was given up on


def _json_lines(response: Response) -> Iterator[str]:
    """One JSON object a line; a failure after the stream began is a last ``{"error": ...}`` line."""
    try:
        for sentence in response:
            yield json.dumps({"sentence": sentence}, ensure_ascii=False) + "\n"
        yield json.dumps({"answer": response.answer.to_dict()}, ensure_ascii=False) + "\n"
    except RagError as problem:
        yield json.dumps({"error": str(problem)}) + "\n"


async def read_json(request: Request, limit: int) -> object:
    """The request's JSON body; raises :class:`TooLarge` over ``limit`` bytes, ``InvalidJSON`` when malformed.

    Every JSON route reads its body here, so depth and number size are bounded before any
    validation (a 10,000-deep array or a 100,000-digit number is a 400, never a 500).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is larger than {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise TooLarge(f"request body is larger than {limit} bytes")
    return loads(body)


async def answering(call, *arguments, store: Store | None = None):
    """Run ``call(*arguments)`` off the event loop; its errors are raised for the exception handlers.

    With ``store``, a call whose store read hangs past ``store_timeout`` raises the store's 503 once
    the watchdog has freed its lock, instead of never answering.
    """
    thread: list[int] = []

    def tracked():
        thread.append(threading.get_ident())
        return call(*arguments)

    task = asyncio.ensure_future(run_in_threadpool(tracked))
    while True:
        done, _ = await asyncio.wait({task}, timeout=POLL)
        if done:
            return task.result()
        if store is not None and thread and (stuck := store.abandoned(thread[0])):
            raise stuck


def router(assistant: Assistant) -> APIRouter:
    api = APIRouter(prefix="/api")
    limit = assistant.settings.max_body_bytes
    probe = HealthProbe(assistant)

    @api.get("/health")
    async def health() -> dict:
        """Liveness plus what is indexed; within a second, ``"degraded"`` and why when storage is in trouble."""
        return await probe.check()

    async def read_question(request: Request) -> tuple[object, object, object, ArticleFilter]:
        """The body ``{"question", "history", "answerer", "since", "until", "outlets"}``.

        The question, history and answerer are checked by ``Assistant.stream`` (``rag.validation``), with
        the same rules and messages as the CLI and Python.
        """
        data = await read_json(request, limit)
        if not isinstance(data, dict):
            raise InvalidInput('the body must be a JSON object: {"question": "...", "history": [[q, a], ...]}')
        filters = ArticleFilter.parse(data.get("since"), data.get("until"), data.get("outlets"))
        return data.get("question"), data.get("history", []), data.get("answerer"), filters

    @api.post("/ask")
    async def ask(request: Request) -> dict:
        """``{"question": str, "history": [[q, a], ...], "answerer"?: str}`` -> the ``rag ask --json`` dict."""
        checked = await read_question(request)
        answer = await answering(assistant.ask, *checked, store=assistant.store)
        return answer.to_dict()

    @api.post("/ask/stream")
    async def ask_stream(request: Request) -> StreamingResponse:
        """The same body as ``/api/ask``; JSON lines: ``{"sentence": ...}`` per checked sentence, then
        ``{"answer": {...}}`` (the final answer, which replaces the sentences if it differs)."""
        checked = await read_question(request)
        response = await answering(assistant.stream, *checked)
        return StreamingResponse(_json_lines(response), media_type="application/x-ndjson")

    @api.get("/articles/{source:path}", response_class=HTMLResponse)
    async def article(source: str, start: int | None = None, end: int | None = None) -> HTMLResponse:
        """The whole article of a cited file (``source`` may hold "/"), with the cited passage marked.

        ``source`` is only looked up in the index, never joined to a path: ``../x`` is simply not found.
        """
        found = await run_in_threadpool(assistant.article, source)
        return HTMLResponse(article_page(found.title, found.source, found.text, start, end, found.meta.url))

    return api
