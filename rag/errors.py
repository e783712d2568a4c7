"""Errors a user can cause and fix; the CLI and the HTTP API turn them into clear messages."""


class RagError(Exception):
    """Base class: the message is meant for the user, never a traceback."""


class InvalidQuestion(RagError, ValueError):
    """The question is empty, too long or otherwise unusable."""


class EmptyIndex(RagError):
    """Nothing has been ingested yet, so there is nothing to answer from."""


class InvalidInput(RagError, ValueError):
    """A file or path given to ingest (or a history file) cannot be used."""


class StorageError(RagError):
    """The index's storage failed: a full or read-only disk, a store error, or a store that stopped answering.

    The message names the cause and ``data_dir``; nothing is lost (the next ``rag ingest`` repairs
    the index), and the CLI exits with code 2, the HTTP API answers 503.
    """
