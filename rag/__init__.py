"""Question answering over news articles, with citations to the source files."""

from rag.assistant import Answer, Assistant, Citation
from rag.errors import EmptyIndex, InvalidInput, InvalidQuestion, RagError
from rag.settings import Settings

__all__ = ["Answer", "Assistant", "Citation", "EmptyIndex", "InvalidInput", "InvalidQuestion", "RagError", "Settings"]
