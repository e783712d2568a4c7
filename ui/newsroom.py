"""JSON routes of the newsroom: list, upload and remove articles; 👍/👎 feedback on answers.

``GET /api/articles?q=``, ``POST /api/articles`` (multipart, field ``files``),
``DELETE /api/articles/<source>`` and ``POST /api/feedback``. Behind the same login as every route.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from rag import Assistant, EmptyIndex, RagError, feedback
from rag.articles import NotIndexed, UploadTooLarge, add_articles, list_articles, remove_article
from rag.errors import StorageError
from ui.api import BadBody, read_json

MULTIPART_SLACK = 64_000  # bytes of multipart headers and boundaries allowed beyond the files themselves


def error(status: int, message: str, **more) -> JSONResponse:
    return JSONResponse({"error": message, **more}, status_code=status)


STATUSES = ((UploadTooLarge, 413), (NotIndexed, 404), (StorageError, 503), (EmptyIndex, 409), (RagError, 400))


async def _calling(call, *args) -> object | JSONResponse:
    """Run ``call(*args)`` off the event loop; our errors become JSON with their status, a storage fault 503."""
    try:
        return await run_in_threadpool(call, *args)
    except RagError as problem:
        return error(next(status for kind, status in STATUSES if isinstance(problem, kind)), str(problem))
    except OSError as exc:  # the data folder is full or read-only: nothing half-written is kept
        return error(503, f"cannot store it in the data folder ({exc.strerror or exc})")


def router(assistant: Assistant) -> APIRouter:
    api = APIRouter(prefix="/api")
    settings = assistant.settings

    @api.get("/articles")
    async def articles(q: str | None = None):
        """The indexed articles, newest first: title, date, outlet, url, source, chunks; ``q`` searches them."""
        found = await _calling(list_articles, assistant, q)
        return found if isinstance(found, JSONResponse) else [a.to_dict() for a in found]

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
        result = await _calling(add_articles, assistant, files)
        if isinstance(result, JSONResponse):
            return result
        if not result.added:
            return error(400, "; ".join(result.errors) or "no article was added", **result.to_dict())
        return result.to_dict()

    @api.delete("/articles/{source:path}")
    async def remove(source: str):
        """Take an article out of the index; the response says whether its file was deleted or kept."""
        removal = await _calling(remove_article, assistant, source)
        return removal if isinstance(removal, JSONResponse) else removal.to_dict()

    @api.post("/feedback")
    async def give_feedback(request: Request):
        """``{"question", "answer", "verdict": "up"|"down", "history"?, "citations"?, "correction"?}``."""
        try:
            data = await read_json(request, settings.max_body_bytes)  # bounded depth and numbers, like /api/ask
        except BadBody as bad:
            return error(bad.status, str(bad))
        entry = await _calling(feedback.record, settings, data)
        if isinstance(entry, JSONResponse):
            return entry
        return {"stored": entry["id"], "time": entry["time"], "generation": entry["generation"]}

    return api
