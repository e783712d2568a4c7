"""An MCP server on ``/mcp`` (streamable HTTP), so AI assistants can ask the articles as a tool.

The official ``mcp`` SDK's ``MCPServer``, served by the same process as the page and behind the same
login. Gradio's built-in MCP support was the other choice; its ``gradio[mcp]`` extra pins ``mcp<2``
and ``pydantic<=2.12.5`` (older than the project's) and would publish the chat page's event handler
as the tool, where clients want ``ask`` and ``search`` with plain arguments. The tools are thin
callers of ``Assistant.ask`` and ``Assistant.search``, like the JSON API.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from rag import Assistant, RagError, Settings

PATH = "/mcp"
LOOPBACK = ("127.0.0.1", "localhost", "::1")  # where the SDK checks Host and Origin itself
MAX_PASSAGES = 20

INSTRUCTIONS = (
    "Answers questions about a collection of news articles. `ask` returns an answer built from sentences "
    "quoted verbatim from the articles, each marked [n] and cited (file, title, quote, character offsets), "
    "or abstained=true when the articles don't answer it. `search` returns the best matching passages."
)


def build(assistant: Assistant) -> MCPServer:
    """The tools ``ask`` and ``search``; their errors (an empty question, nothing indexed) are tool errors."""
    server = MCPServer("news-qa", instructions=INSTRUCTIONS, log_level="WARNING")  # it configures root logging

    @server.tool()
    def ask(question: str, history: list[list[str]] | None = None) -> dict[str, Any]:
        """Answer a question about the news articles, citing the sentences it quotes.

        Args:
            question: the question, in plain words.
            history: earlier turns of the conversation as [question, answer] pairs, for follow-ups
                such as "What did he say about Russia?".

        Returns the answer text with [n] markers; ``citations`` (n, source: the file, title, quote,
        start and end: character offsets of the quote in the file); ``abstained`` (true when the
        articles don't answer the question, with no citations); ``short_answer`` when one was found.
        """
        try:
            return assistant.ask(question, history or []).to_dict()
        except RagError as problem:
            raise ToolError(str(problem)) from None

    @server.tool()
    def search(query: str, k: int = 5) -> dict[str, Any]:
        """Find the passages of the news articles that best match a query, best first.

        Args:
            query: what to look for.
            k: how many passages to return (1 to 20).

        Returns ``passages``: each with its text, source (the file), title, and start and end
        (character offsets in the file).
        """
        if not 1 <= k <= MAX_PASSAGES:
            raise ToolError(f"k must be between 1 and {MAX_PASSAGES}, not {k}")
        try:
            found = assistant.search(query)[:k]
        except RagError as problem:
            raise ToolError(str(problem)) from None
        return {"passages": [_passage(document.page_content, document.metadata) for document in found]}

    return server


def _passage(text: str, metadata: dict) -> dict[str, Any]:
    """What a client may see of a retrieved passage: not the server's own file paths."""
    return {"text": text, **{key: metadata.get(key) for key in ("source", "title", "start", "end")}}


def app(server: MCPServer, settings: Settings) -> Starlette:
    """The streamable-HTTP endpoint, stateless: every request stands alone, as in the JSON API.

    On loopback the SDK's DNS-rebinding check stays on (only local Host and Origin headers); on
    another address the server already requires a login (``check_binding``), and the Host clients
    use is not known in advance. Bodies are limited like the JSON API's (``max_body_bytes``).
    """
    host = settings.host
    security = None if host in LOOPBACK else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        transport_security=security,
        host=host,
        max_request_body_size=settings.max_body_bytes,
    )


def lifespan(server: MCPServer):
    """The FastAPI lifespan that runs the MCP session manager (a mounted app's own lifespan never runs)."""

    @contextlib.asynccontextmanager
    async def running(_app) -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return running
