"""The HTTP side of the error table (``rag.errors.TABLE``): FastAPI exception handlers for every route.

A route raises; it never builds an error response itself. Each :class:`RagError` becomes its
table status with the message, in the error shape of the API it was sent to: ``{"error": "..."}``
for ``/api/*``, OpenAI's ``{"error": {"message", "type", "param", "code"}}`` for ``/v1/*``. Any other
exception is a bug: ``500 internal error: <type>``, never a traceback.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rag.errors import InvalidInput, RagError, http_status

OPENAI_PREFIX = "/v1/"


class Refused(InvalidInput):
    """A request refused with details besides the message (``more``: extra fields of the JSON body)."""

    def __init__(self, message: str, **more):
        super().__init__(message)
        self.more = more


def openai_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict:
    """OpenAI's error shape, so its clients raise their usual exceptions with our message."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_body(request: Request, status: int, message: str, problem: Exception | None = None) -> dict:
    if request.url.path.startswith(OPENAI_PREFIX):
        return openai_body(status, message, getattr(problem, "param", None), getattr(problem, "code", None))
    return {"error": message, **(problem.more if isinstance(problem, Refused) else {})}


def install(app: FastAPI) -> None:
    """Register the handlers on ``app`` (the routers' errors reach them; Gradio's own routes keep Gradio's)."""

    @app.exception_handler(RagError)
    async def known(request: Request, problem: RagError) -> JSONResponse:
        status = http_status(problem)
        return JSONResponse(error_body(request, status, str(problem), problem), status_code=status)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, problem: Exception) -> JSONResponse:
        message = f"internal error: {type(problem).__name__}"
        return JSONResponse(error_body(request, 500, message), status_code=500)
