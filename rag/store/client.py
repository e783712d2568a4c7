"""Opening Chroma: an embedded database under ``data_dir``, or a client of the server at ``chroma_url``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import chromadb
from chromadb.api.client import Client

from rag.store.faults import StoreUnavailable


def _settings() -> chromadb.Settings:
    """Fresh for every client: chromadb writes the server's host and port into the object it is given."""
    return chromadb.Settings(anonymized_telemetry=False)


def connect(url: str) -> chromadb.ClientAPI:
    """A client of the Chroma server at ``url`` (``http://host:port`` or ``https://...``)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in {"http", "https"} or not parts.hostname or port == -1 or parts.path not in {"", "/"}:
        raise StoreUnavailable(f"chroma_url {url!r} is not a server address like http://127.0.0.1:8000")
    ssl = parts.scheme == "https"
    try:
        return chromadb.HttpClient(
            host=parts.hostname, port=port or (443 if ssl else 8000), ssl=ssl, settings=_settings()
        )
    except Exception as exc:  # chromadb says ValueError("Could not connect ..."); httpx errors vary
        raise StoreUnavailable(
            f"cannot reach the Chroma server at {url} ({exc}); start it with "
            "`chroma run --path DIR --host HOST --port PORT` or unset chroma_url to use the local index"
        ) from exc


def open_local(path: Path) -> chromadb.ClientAPI:
    """The embedded Chroma database in the folder ``path``."""
    return chromadb.PersistentClient(path=str(path), settings=_settings())


def forget_clients() -> None:
    """Make the next :func:`open_local` read the database from disk again.

    Chroma keeps one in-memory system (its vector index included) per database folder for the
    whole process, and hands it to every new client of that folder, so a new client alone would
    still show the index from before another process's writes. ``clear_system_cache()`` is the
    public client call that drops those systems (Chroma documents it for tests; there is no other
    way to reopen a folder in the same process). Pinned by tests/test_store_adapter.py.
    """
    Client.clear_system_cache()


def collection_count(client: chromadb.ClientAPI, name: str) -> int:
    """Rows in the collection ``name``; 0 when there is no such collection."""
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    return client.get_collection(name).count() if name in names else 0
