"""JSON routes of the newsroom: list, upload and remove articles; 👍/👎 feedback on answers.

``GET /api/articles?q=``, ``POST /api/articles`` (multipart, field ``files``),
``DELETE /api/articles/<source>`` and ``POST /api/feedback``. Behind the same login as every route.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from rag import Assistant, RagError, feedback
from rag.articles import NotIndexed, UploadTooLarge, add_articles, list_articles, remove_article
from rag.store import StoreUnavailable

MULTIPART_SLACK = 64_000  # bytes of multipart headers and boundaries allowed beyond the files themselves


def error(status: int, message: str, **more) -> JSONResponse:
    return JSONResponse({"error": message, **more}, status_code=status)


def router(assistant: Assistant) -> APIRouter:
    api = APIRouter(prefix="/api")
    settings = assistant.settings

    @api.get("/articles")
    def articles(q: str | None = None):
        """The indexed articles, newest first: title, date, outlet, url, source, chunks; ``q`` searches them."""
        try:
            return [a.to_dict() for a in list_articles(assistant, q)]
        except StoreUnavailable as problem:
            return error(503, str(problem))

    @api.post("/articles")
    async def upload(request: Request):
        """Multipart ``files`` (.txt, .md, .zip of them): checked like `rag ingest`, kept, ingested at once."""
        limit = settings.max_upload_bytes + MULTIPART_SLACK
        too_large = error(413, f"the upload is larger than {settings.max_upload_bytes} bytes (max_upload_bytes)")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return too_large
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return error(400, "send the articles as multipart/form-data, in the field `files`")
        body = bytearray()
        async for piece in request.stream():  # counted as it arrives: a body without a length is bounded too
            body += piece
            if len(body) > limit:
                return too_large

        async def replay() -> dict:
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=settings.max_upload_files + 1, max_fields=100)
        except Exception as exc:  # starlette raises its own MultiPartException / HTTPException for a bad body
            return error(400, f"malformed multipart body ({exc})")
        uploads = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
        if not uploads:
            return error(400, "no files: send the articles in the multipart field `files`")
        if len(uploads) > settings.max_upload_files:
            return error(
                413,
                f"the upload holds {len(uploads)} files; the limit is {settings.max_upload_files} (max_upload_files)",
            )
        files = [(item.filename or "", await item.read()) for item in uploads]
        try:
            result = await run_in_threadpool(add_articles, assistant, files)
        except UploadTooLarge as problem:
            return error(413, str(problem))
        except StoreUnavailable as problem:
            return error(503, str(problem))
        except RagError as problem:
            return error(400, str(problem))
        if not result.added:
            return error(400, "; ".join(result.errors) or "no article was added", **result.to_dict())
        return result.to_dict()

    @api.delete("/articles/{source:path}")
    async def remove(source: str):
        """Take an article out of the index; the response says whether its file was deleted or kept."""
        try:
            removal = await run_in_threadpool(remove_article, assistant, source)
        except NotIndexed as problem:
            return error(404, str(problem))
        except StoreUnavailable as problem:
            return error(503, str(problem))
        return removal.to_dict()

    @api.post("/feedback")
    async def give_feedback(request: Request):
        """``{"question", "answer", "verdict": "up"|"down", "history"?, "citations"?, "correction"?}``."""
        body = await request.body()
        if len(body) > settings.max_body_bytes:
            return error(413, f"request body is larger than {settings.max_body_bytes} bytes")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return error(400, f"malformed JSON: {exc}")
        try:
            entry = await run_in_threadpool(feedback.record, settings, data)
        except RagError as problem:
            return error(400, str(problem))
        except OSError as exc:
            return error(507, f"cannot store the feedback ({exc.strerror or exc})")
        return {"stored": entry["id"], "time": entry["time"], "generation": entry["generation"]}

    return api
