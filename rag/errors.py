"""Errors a user can cause and fix; the CLI and the HTTP API turn them into clear messages."""


class RagError(Exception):
    """Base class: the message is meant for the user, never a traceback."""


class InvalidQuestion(RagError, ValueError):
    """The question is empty, too long or otherwise unusable."""


class EmptyIndex(RagError):
    """Nothing has been ingested yet, so there is nothing to answer from."""


class InvalidInput(RagError, ValueError):
    """A file or path given to ingest (or a history file) cannot be used."""
