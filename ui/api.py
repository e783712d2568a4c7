"""The JSON API: the same ``Assistant.ask`` as the CLI, with errors as JSON 4xx, never a trace."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from rag import Answer, Assistant, EmptyIndex, RagError
from rag.store import StoreUnavailable
from ui.render import article_page


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
    """The HTTP status of an error the user can fix: 409 empty index, 503 store gone, 400 anything else."""
    if isinstance(problem, EmptyIndex):
        return 409
    if isinstance(problem, StoreUnavailable):
        return 503
    return 400


class BadBody(RagError):
    """A request body that is too large (413) or not JSON (400); each API words it in its own error shape."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


async def read_json(request: Request, limit: int) -> object:
    """The parsed JSON body, read only up to ``limit`` bytes; raises ``BadBody``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadBody(413, f"request body is larger than {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise BadBody(413, f"request body is larger than {limit} bytes")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadBody(400, f"malformed JSON: {exc}") from None


async def _answering(call, question: tuple) -> object | JSONResponse:
    """Run ``call(*question)`` off the event loop; our errors become JSON: 409 empty index, 503 store gone, 400."""
    try:
        return await run_in_threadpool(call, *question)
    except RagError as problem:
        return error(status_of(problem), str(problem))


def router(assistant: Assistant) -> APIRouter:
    api = APIRouter(prefix="/api")
    limit = assistant.settings.max_body_bytes

    @api.get("/health")
    def health() -> dict:
        """Liveness plus what is indexed: articles, chunks and the embedding model."""
        return {"status": "ok", **assistant.stats()}

    async def read_question(request: Request) -> tuple[str, list[tuple[str, str]], str | None] | JSONResponse:
        """The checked body ``{"question", "history", "answerer"}``, or the JSON 4xx to answer with."""
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
        return question, [tuple(p) for p in history], answerer

    @api.post("/ask")
    async def ask(request: Request):
        """``{"question": str, "history": [[q, a], ...], "answerer"?: str}`` -> the ``rag ask --json`` dict."""
        checked = await read_question(request)
        if isinstance(checked, JSONResponse):
            return checked
        answer = await _answering(assistant.ask, checked)
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

    @api.get("/articles/{source}", response_class=HTMLResponse)
    def article(source: str, start: int | None = None, end: int | None = None):
        """The whole article of a cited file, with the cited passage marked."""
        try:
            found = assistant.article(source)
        except RagError as problem:
            return error(404, str(problem))
        return HTMLResponse(article_page(found.title, found.source, found.text, start, end))

    return api
