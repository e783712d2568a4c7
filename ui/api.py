"""The JSON API: the same ``Assistant.ask`` as the CLI, with errors as JSON 4xx, never a trace."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from rag import Answer, Assistant, EmptyIndex, RagError
from rag.errors import StorageError
from rag.filters import ArticleFilter
from rag.safejson import InvalidJSON, loads
from rag.store import Store
from ui.health import HealthProbe
from ui.render import article_page

POLL = 0.5  # seconds between looks at whether a question's store read was given up on


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _json_lines(pieces: Iterator[str | Answer]) -> Iterator[str]:
    """One JSON object a line; a failure after the stream began is a last ``{"error": ...}`` line."""
    try:
        for piece in pieces:
            line = {"sentence": piece} if isinstance(piece, str) else {"answer": piece.to_dict()}
            yield json.dumps(line, ensure_ascii=False) + "\n"
    except RagError as problem:
        yield json.dumps({"error": str(problem)}) + "\n"


def status_of(problem: RagError) -> int:
    """The HTTP status of an error the user can fix: 409 empty index, 503 storage fault, 400 anything else."""
    if isinstance(problem, EmptyIndex):
        return 409
    if isinstance(problem, StorageError):
        return 503
    return 400


class BadBody(RagError):
    """A request body that is too large (413) or not JSON (400); each API words it in its own error shape."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


async def read_json(request: Request, limit: int) -> object:
    """The request's JSON body; raises ``BadBody``: 413 over ``limit`` bytes, 400 malformed.

    Every JSON route reads its body here, so depth and number size are bounded before any
    validation (a 10,000-deep array or a 100,000-digit number is a 400, never a 500).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadBody(413, f"request body is larger than {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise BadBody(413, f"request body is larger than {limit} bytes")
    try:
        return loads(body)
    except InvalidJSON as problem:
        raise BadBody(400, str(problem)) from None


async def _answering(call, question: tuple, store: Store | None = None) -> object | JSONResponse:
    """Run ``call(*question)`` off the event loop; our errors become JSON: 409 empty index, 503 storage, 400.

    With ``store``, a call whose store read hangs past ``store_timeout`` is answered 503 once the
    watchdog has freed its lock, instead of never.
    """
    thread: list[int] = []

    def tracked():
        thread.append(threading.get_ident())
        return call(*question)

    task = asyncio.ensure_future(run_in_threadpool(tracked))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=POLL)
            if done:
                return task.result()
            if store is not None and thread and (stuck := store.abandoned(thread[0])):
                raise stuck
    except RagError as problem:
        return error(status_of(problem), str(problem))


def router(assistant: Assistant) -> APIRouter:
    api = APIRouter(prefix="/api")
    limit = assistant.settings.max_body_bytes
    probe = HealthProbe(assistant)

    @api.get("/health")
    async def health() -> dict:
        """Liveness plus what is indexed; within a second, ``"degraded"`` and why when storage is in trouble."""
        return await probe.check()

    async def read_question(
        request: Request,
    ) -> tuple[str, list[tuple[str, str]], str | None, ArticleFilter] | JSONResponse:
        """The checked body ``{"question", "history", "answerer", "since", "until", "outlets"}``, or the JSON 4xx."""
        try:
            data = await read_json(request, limit)
        except BadBody as bad:
            return error(bad.status, str(bad))
        if not isinstance(data, dict):
            return error(400, 'the body must be a JSON object: {"question": "...", "history": [[q, a], ...]}')
        question, history, answerer = data.get("question"), data.get("history", []), data.get("answerer")
        if not isinstance(question, str):
            return error(400, '"question" must be a string')
        if not isinstance(history, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in history
        ):
            return error(400, '"history" must be a list of [question, answer] pairs of strings')
        if answerer is not None and answerer not in assistant.answerers:
            return error(400, f'"answerer" must be one of {", ".join(assistant.answerers)} on this server')
        try:
            filters = ArticleFilter.parse(data.get("since"), data.get("until"), data.get("outlets"))
        except RagError as problem:
            return error(400, str(problem))
        return question, [tuple(p) for p in history], answerer, filters

    @api.post("/ask")
    async def ask(request: Request):
        """``{"question": str, "history": [[q, a], ...], "answerer"?: str}`` -> the ``rag ask --json`` dict."""
        checked = await read_question(request)
        if isinstance(checked, JSONResponse):
            return checked
        answer = await _answering(assistant.ask, checked, assistant.store)
        return answer if isinstance(answer, JSONResponse) else answer.to_dict()

    @api.post("/ask/stream")
    async def ask_stream(request: Request):
        """The same body as ``/api/ask``; JSON lines: ``{"sentence": ...}`` per checked sentence, then
        ``{"answer": {...}}`` (the final answer, which replaces the sentences if it differs)."""
        checked = await read_question(request)
        if isinstance(checked, JSONResponse):
            return checked
        pieces = await _answering(assistant.stream, checked)
        if isinstance(pieces, JSONResponse):
            return pieces
        return StreamingResponse(_json_lines(pieces), media_type="application/x-ndjson")

    @api.get("/articles/{source:path}", response_class=HTMLResponse)
    def article(source: str, start: int | None = None, end: int | None = None):
        """The whole article of a cited file (``source`` may hold "/"), with the cited passage marked.

        ``source`` is only looked up in the index, never joined to a path: ``../x`` is simply not found.
        """
        try:
            found = assistant.article(source)
        except StorageError as problem:
            return error(503, str(problem))
        except RagError as problem:
            return error(404, str(problem))
        return HTMLResponse(article_page(found.title, found.source, found.text, start, end, found.meta.url))

    return api
