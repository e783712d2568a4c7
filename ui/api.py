"""The JSON API: the same ``Assistant.ask`` as the CLI, with errors as JSON 4xx, never a trace."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from rag import Assistant, EmptyIndex, RagError
from ui.render import article_page


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def router(assistant: Assistant) -> APIRouter:
    api = APIRouter(prefix="/api")
    limit = assistant.settings.max_body_bytes

    @api.get("/health")
    def health() -> dict:
        """Liveness plus what is indexed: articles, chunks and the embedding model."""
        return {"status": "ok", **assistant.stats()}

    @api.post("/ask")
    async def ask(request: Request):
        """``{"question": str, "history": [[q, a], ...]}`` -> the ``rag ask --json`` dict."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return error(413, f"request body is larger than {limit} bytes")
        body = await request.body()
        if len(body) > limit:
            return error(413, f"request body is larger than {limit} bytes")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return error(400, f"malformed JSON: {exc}")
        if not isinstance(data, dict):
            return error(400, 'the body must be a JSON object: {"question": "...", "history": [[q, a], ...]}')
        question, history = data.get("question"), data.get("history", [])
        if not isinstance(question, str):
            return error(400, '"question" must be a string')
        if not isinstance(history, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in history
        ):
            return error(400, '"history" must be a list of [question, answer] pairs of strings')
        try:
            answer = await run_in_threadpool(assistant.ask, question, [tuple(p) for p in history])
        except EmptyIndex as problem:
            return error(409, str(problem))
        except RagError as problem:
            return error(400, str(problem))
        return answer.to_dict()

    @api.get("/articles/{source}", response_class=HTMLResponse)
    def article(source: str, start: int | None = None, end: int | None = None):
        """The whole article of a cited file, with the cited passage marked."""
        try:
            found = assistant.article(source)
        except RagError as problem:
            return error(404, str(problem))
        return HTMLResponse(article_page(found.title, found.source, found.text, start, end))

    return api
