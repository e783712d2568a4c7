"""Errors a user can cause and fix, and the one table of what each means to HTTP and to the shell.

Every caller turns a :class:`RagError` into a message, never a traceback: the CLI prints
``error: ...`` and exits with :func:`exit_code`; the HTTP API answers :func:`http_status` (through
FastAPI exception handlers, ``ui.errors``). A subclass gets the entry of its nearest listed
ancestor, so a new error type needs no entry unless it means something new.
"""

from __future__ import annotations

from dataclasses import dataclass


class RagError(Exception):
    """Base class: the message is meant for the user, never a traceback."""


class InvalidQuestion(RagError, ValueError):
    """The question is empty, too long or otherwise unusable."""


class EmptyIndex(RagError):
    """Nothing has been ingested yet, so there is nothing to answer from."""


class InvalidInput(RagError, ValueError):
    """A file or path given to ingest (or a history file, or a request body) cannot be used."""


class NotFound(InvalidInput):
    """The named article (or passage) is not in the index, or its file is gone (an ``InvalidInput``, as before)."""


class TooLarge(InvalidInput):
    """A request body or upload over its size limit (``max_body_bytes``, ``max_upload_bytes``, ...)."""


class StorageError(RagError):
    """The index's storage failed: a full or read-only disk, a store error, or a store that stopped answering.

    The message names the cause and ``data_dir``; nothing is lost (the next ``rag ingest`` repairs
    the index).
    """


class LockTimeout(StorageError):
    """The index stayed locked by another process (an ingest) longer than ``lock_timeout``."""


EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Meaning:
    """What an error type means outside Python: an HTTP status and a CLI exit code."""

    status: int
    exit_code: int


# The one table. Exit codes stay 2 ("nothing done") for every error, as documented; a storage fault is
# the server's trouble (503), not the request's. ``rag.store.StoreUnavailable`` is a StorageError.
TABLE: dict[type[RagError], Meaning] = {
    RagError: Meaning(400, EXIT_USAGE),  # bad input of any other kind: a setting, a filter, a login setting
    InvalidQuestion: Meaning(400, EXIT_USAGE),
    InvalidInput: Meaning(400, EXIT_USAGE),
    NotFound: Meaning(404, EXIT_USAGE),
    EmptyIndex: Meaning(409, EXIT_USAGE),
    TooLarge: Meaning(413, EXIT_USAGE),
    StorageError: Meaning(503, EXIT_USAGE),
    LockTimeout: Meaning(503, EXIT_USAGE),
}


def meaning(problem: RagError) -> Meaning:
    """The table's entry for ``problem``: that of the nearest ancestor class listed."""
    return next(TABLE[kind] for kind in type(problem).__mro__ if kind in TABLE)


def http_status(problem: RagError) -> int:
    return meaning(problem).status


def exit_code(problem: RagError) -> int:
    return meaning(problem).exit_code
