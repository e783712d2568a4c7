"""JSON routes of the newsroom: list, upload and remove articles; 👍/👎 feedback on answers.

``GET /api/articles?q=``, ``POST /api/articles`` (multipart, field ``files``),
``DELETE /api/articles/<source>`` and ``POST /api/feedback``. Behind the same login as every route.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from rag import Assistant, feedback
from rag.articles import add_articles, list_articles, remove_article
from rag.errors import InvalidInput, StorageError, TooLarge
from ui.api import read_json
from ui.errors import Refused

MULTIPART_SLACK = 64_000  # bytes of multipart headers and boundaries allowed beyond the files themselves


async def _calling(call, *args):
    """Run ``call(*args)`` off the event loop; a full or read-only data folder is a storage fault (503).

    Our own errors are raised as they are, for the exception handlers (``ui.errors``).
    """
    try:
        return await run_in_threadpool(call, *args)
    except OSError as exc:  # nothing half-written is kept
        raise StorageError(f"cannot store it in the data folder ({exc.strerror or exc})") from exc


def router(assistant: Assistant) -> APIRouter:
    api = APIRouter(prefix="/api")
    settings = assistant.settings

    @api.get("/articles")
    async def articles(q: str | None = None):
        """The indexed articles, newest first: title, date, outlet, url, source, chunks; ``q`` searches them."""
        found = await _calling(list_articles, assistant, q)
        return [a.to_dict() for a in found]

    @api.post("/articles")
    async def upload(request: Request):
        """Multipart ``files`` (.txt, .md, .zip of them): checked like `rag ingest`, kept, ingested at once."""
        limit = settings.max_upload_bytes + MULTIPART_SLACK
        too_large = TooLarge(f"the upload is larger than {settings.max_upload_bytes} bytes (max_upload_bytes)")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise InvalidInput("send the articles as multipart/form-data, in the field `files`")
        body = bytearray()
        async for piece in request.stream():  # counted as it arrives: a body without a length is bounded too
            body += piece
            if len(body) > limit:
                raise too_large

        async def replay() -> dict:
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=settings.max_upload_files + 1, max_fields=100)
        except Exception as exc:  # starlette raises its own MultiPartException / HTTPException for a bad body
            raise InvalidInput(f"malformed multipart body ({exc})") from None
        uploads = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
        if not uploads:
            raise InvalidInput("no files: send the articles in the multipart field `files`")
        if len(uploads) > settings.max_upload_files:
            raise TooLarge(
                f"the upload holds {len(uploads)} files; the limit is {settings.max_upload_files} (max_upload_files)"
            )
        files = [(item.filename or "", await item.read()) for item in uploads]
        result = await _calling(add_articles, assistant, files)
        if not result.added:
            raise Refused("; ".join(result.errors) or "no article was added", **result.to_dict())
        return result.to_dict()

    @api.delete("/articles/{source:path}")
    async def remove(source: str):
        """Take an article out of the index; the response says whether its file was deleted or kept."""
        removal = await _calling(remove_article, assistant, source)
        return removal.to_dict()

    @api.post("/feedback")
    async def give_feedback(request: Request):
        """``{"question", "answer", "verdict": "up"|"down", "history"?, "citations"?, "correction"?}``."""
        data = await read_json(request, settings.max_body_bytes)  # bounded depth and numbers, like /api/ask
        entry = await _calling(feedback.record, settings, data)
        return {"stored": entry["id"], "time": entry["time"], "generation": entry["generation"]}

    return api
