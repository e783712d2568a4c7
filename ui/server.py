"""One web server for the chat page and the JSON API (``rag serve``)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
import sys

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rag import Assistant, RagError, Settings
from ui import api, chat, errors, mcp_server, newsroom, openai_api

OPEN_PATHS = ("/api/health",)  # monitoring needs no login
CLIENT_PATHS = ("/v1/", "/mcp/")  # OpenAI and MCP clients, which may log in with the API token
UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/upload_progress")
# Components through which a page takes files: without one, Gradio's upload route serves no purpose.
FILE_INPUTS = (gr.File, gr.UploadButton, gr.Image, gr.Audio, gr.Video, gr.Gallery, gr.Model3D, gr.MultimodalTextbox)


def create_app(assistant: Assistant) -> FastAPI:
    """The API routes first (Gradio, mounted at "/", would shadow anything added later)."""
    tools = mcp_server.build(assistant)
    tools_app = mcp_server.app(tools, assistant.settings)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=mcp_server.lifespan(tools))
    app.include_router(api.router(assistant))
    app.include_router(newsroom.router(assistant))  # articles (list, upload, remove) and feedback
    app.include_router(openai_api.router(assistant))  # /v1: OpenAI-compatible chat
    app.add_route(mcp_server.PATH, tools_app)  # MCP over streamable HTTP

    errors.install(app)  # the error table's statuses, in each API's error shape

    demo = chat.build(assistant)
    demo.queue(default_concurrency_limit=8, max_size=256)
    if not any(isinstance(block, FILE_INPUTS) for block in demo.blocks.values()):
        _refuse_uploads(app)
    if assistant.settings.auth or assistant.settings.api_token:  # added last, so it runs first
        _require_login(app, assistant.settings)
    return gr.mount_gradio_app(app, demo, path="/", css=chat.CSS, max_file_size=assistant.settings.max_upload_bytes)


def _refuse_uploads(app: FastAPI) -> None:
    """A page with no file input takes no files: nobody may fill the disk through Gradio's upload route."""

    @app.middleware("http")
    async def no_uploads(request: Request, call_next):
        if request.url.path.rstrip("/") in UPLOAD_PATHS:
            return JSONResponse({"error": "this page takes no file uploads"}, status_code=403)
        return await call_next(request)


def _require_login(app: FastAPI, settings: Settings) -> None:
    """HTTP Basic on the page, its Gradio API and the JSON API: one login for browser and clients.

    The OpenAI and MCP routes also take ``Authorization: Bearer <api_token>``, the way their clients
    send a key; a token set without ``--auth`` protects just those routes.
    """
    user, _, password = (settings.auth or "").partition(":")
    expected = (user.encode(), password.encode()) if settings.auth else None
    token = settings.api_token.get_secret_value().encode() if settings.api_token else None

    @app.middleware("http")
    async def login(request: Request, call_next):
        path, header = request.url.path, request.headers.get("authorization", "")
        client = path.startswith(CLIENT_PATHS) or path in ("/v1", "/mcp")
        if path in OPEN_PATHS or (expected is None and not client):
            return await call_next(request)
        if (expected and _authorised(header, expected)) or (client and token and _bearer(header, token)):
            return await call_next(request)
        challenge = {"WWW-Authenticate": 'Basic realm="news-qa"' if expected else "Bearer"}
        if path.startswith("/v1/"):
            body = errors.openai_body(401, "login required: send the API token as the key", code="invalid_api_key")
            refused = JSONResponse(body, status_code=401)
        else:
            refused = JSONResponse({"error": "login required"}, status_code=401)
        refused.headers.update(challenge)
        return refused


def _bearer(header: str, token: bytes) -> bool:
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token)


def _authorised(header: str, expected: tuple[bytes, bytes]) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).partition(b":")
    except (binascii.Error, ValueError):
        return False
    return secrets.compare_digest(user, expected[0]) & secrets.compare_digest(password, expected[1])


def check_binding(settings: Settings) -> None:
    """Refuse to expose the assistant beyond this machine without a login, unless told to."""
    if settings.auth is not None and (":" not in settings.auth or not settings.auth.split(":", 1)[0]):
        raise RagError("--auth must look like user:password")
    if _is_loopback(settings.host) or settings.auth or settings.insecure:
        return
    raise RagError(
        f"refusing to serve on {settings.host} without a login: add --auth user:password, "
        "or --insecure to serve it open to the network"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(settings: Settings) -> None:
    check_binding(settings)
    assistant = Assistant(settings)
    if assistant.store.count() == 0:
        print("warning: nothing is indexed yet; run `rag ingest` first", file=sys.stderr)
    assistant.store.embeddings  # noqa: B018 - load the model before the first visitor waits for it
    app = create_app(assistant)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(
        f"Chat page: http://{shown}:{settings.port}/   JSON API: POST http://{shown}:{settings.port}/api/ask   "
        f"OpenAI API: http://{shown}:{settings.port}/v1   MCP: http://{shown}:{settings.port}{mcp_server.PATH}",
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
