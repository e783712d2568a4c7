"""The one API every caller uses: the CLI, the chat UI, the HTTP API and the evaluation."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from rag.answer import ExtractiveAnswerer, Scored, candidates
from rag.conversation import History, Query
from rag.errors import EmptyIndex, InvalidInput, InvalidQuestion, RagError
from rag.ingest import IngestReport, ingest
from rag.lexical import LexicalRetriever
from rag.loading import Article, load_article
from rag.retrieve import retrieve
from rag.settings import Settings
from rag.store import Store

ABSTENTION = "The articles don't say. I found nothing in them that answers this question."
ANSWERERS = ("extractive", "llm")
FALLBACK = "showing sentences quoted from the articles instead."
NOTICES = {
    "timeout": "The language model did not finish within {timeout:g} s; " + FALLBACK,
    "unsupported": "The language model's answer was not supported by the articles' passages; " + FALLBACK,
    "refused": "The language model found no answer in the passages.",
    "dropped": "{dropped} sentence(s) of the language model's answer were left out: no passage supports them.",
}


@dataclass(frozen=True)
class Citation:
    n: int
    source: str  # file name, e.g. "000_9e119cf1d9bedd41.txt"
    title: str
    quote: str  # verbatim text of the file: file[start:end] == quote
    start: int
    end: int
    chunk: int
    score: float


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    answerer: str = "extractive"  # "llm" when a language model wrote (and the checker passed) the answer
    notice: str | None = None  # shown beside the answer: a fallback, or sentences left out
    grounding: dict | None = None  # the checker's counts for a generated answer: kept, dropped, ...

    def to_dict(self) -> dict:
        return asdict(self)


class Assistant:
    """Answers questions about the ingested articles, citing the passages it quotes.

    >>> assistant = Assistant()                     # settings from RAG_* environment variables
    >>> assistant.ask("Who is Pakistan's envoy to the UN?").answer
    """

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()

    @cached_property
    def store(self) -> Store:
        return Store(self.settings)

    @cached_property
    def answerer(self) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(
            self.store.embeddings,
            min_relevance=self.settings.min_relevance,
            max_sentences=self.settings.max_answer_sentences,
        )

    @cached_property
    def lexical(self) -> LexicalRetriever:
        return LexicalRetriever(documents=self.store.all_sentences(), k=self.settings.top_sentences)

    def ingest(self, paths: list[Path] | None = None, progress: bool | None = None) -> IngestReport:
        report = ingest(list(paths or self.settings.corpus), self.settings, self.store, progress=progress)
        self.__dict__.pop("lexical", None)  # rebuilt from the new index on the next question
        return report

    @cached_property
    def generator(self):
        """The language-model answerer the settings configure (``--llm local|openai``)."""
        from rag.generate import GenerativeAnswerer  # LLM packages load only when one is configured
        from rag.llm import chat_model

        return GenerativeAnswerer(
            chat_model(self.settings),
            self._similarity,
            timeout=self.settings.llm_timeout,
            min_support=self.settings.llm_min_support,
        )

    @property
    def answerers(self) -> list[str]:
        """What ``ask(..., answerer=)`` accepts here: the first is the default."""
        return ["llm", "extractive"] if self.settings.llm != "none" else ["extractive"]

    def ask(self, question: str, history: History = (), answerer: str | None = None) -> Answer:
        """The answer: quoted sentences, or with ``--llm`` a written answer whose sentences were checked."""
        *_, answer = self.stream(question, history, answerer)
        return answer

    def stream(self, question: str, history: History = (), answerer: str | None = None) -> Iterator[str | Answer]:
        """Checked sentences of a written answer as the model produces them, then the final ``Answer``.

        Only sentences the checker accepted are yielded; the final ``Answer`` is authoritative (after a
        fallback it holds quoted sentences that replace whatever was streamed). The extractive answerer
        yields the ``Answer`` alone.
        """
        answerer = self._answerer(answerer)  # bad input fails here, before anything is streamed
        return self._stream(self._check(question), _check_history(history), answerer)

    def _stream(self, question: str, history: list[tuple[str, str]], answerer: str) -> Iterator[str | Answer]:
        query = Query.build(question, history)
        if answerer == "llm" and self.settings.llm_rewrite:
            rewritten = self.generator.rewrite(question, history)
            if rewritten:
                query = dataclasses.replace(query, standalone=rewritten)
        scored = self.answerer.score(query, candidates(self._retrieve(query)))
        chosen = self.answerer.choose(scored)
        if not chosen:  # weak evidence: abstain before any model is asked
            yield Answer(question=question, answer=ABSTENTION, abstained=True, answerer=answerer)
            return
        quoted = _compose(question, chosen)
        if answerer == "extractive":
            yield quoted
            return
        yield from self._generate(question, query, scored, chosen, quoted)

    def _generate(self, question: str, query: Query, scored: list[Scored], chosen: list[Scored], quoted: Answer):
        from rag.grounding import Passage

        # Only the sentences the quoting answerer chose: any weaker passage led the small model to true
        # but beside-the-point answers cited to the wrong article (citation precision 0.85, then 0.93).
        ranked = list({s.sentence.in_context: s for s in chosen}.values())[: self.settings.llm_passages]
        passages = [Passage(s.sentence.in_context, (s.sentence.source, s.sentence.start)) for s in ranked]
        outcome = None
        for piece in self.generator.stream(query.standalone, passages):
            if isinstance(piece, str):
                yield piece
            else:
                outcome = piece
        grounded = outcome.grounded
        counts = grounded.counts()
        if outcome.failure:
            reason = "error" if outcome.failure.startswith("error") else outcome.failure
            notice = NOTICES.get(reason, "The language model failed ({failure}); " + FALLBACK)
            notice = notice.format(timeout=self.settings.llm_timeout, failure=outcome.failure.removeprefix("error: "))
            yield dataclasses.replace(quoted, notice=notice, grounding=counts)
        elif not grounded.sentences:
            yield Answer(question, ABSTENTION, [], True, "llm", NOTICES["refused"], counts)
        else:
            cited = [ranked[i] for i in grounded.cited]
            notice = NOTICES["dropped"].format(dropped=grounded.dropped) if grounded.dropped else None
            yield Answer(question, grounded.text, _citations(cited), False, "llm", notice, counts)

    def _similarity(self, a: str, b: str) -> float:
        vectors = np.asarray(self.store.embeddings.embed_documents([a, b]))
        return float(vectors[0] @ vectors[1])

    def _answerer(self, answerer: str | None) -> str:
        if answerer is None:
            return self.answerers[0]
        if answerer not in ANSWERERS:
            raise InvalidQuestion(f"answerer must be one of {', '.join(ANSWERERS)}, not {answerer!r}")
        if answerer not in self.answerers:
            raise RagError("no language model is configured: start with --llm local or --llm openai")
        return answerer

    def ranked(self, question: str, history: History = ()) -> list[Scored]:
        """Every candidate sentence with its scores, best first: what ``ask`` chose from, and why."""
        query = Query.build(self._check(question), _check_history(history))
        return self.answerer.score(query, candidates(self._retrieve(query)))

    def _retrieve(self, query: Query) -> list[Document]:
        retrievers = [
            self.store.vectors.as_retriever(search_kwargs={"k": self.settings.top_k}),
            self.store.sentence_vectors.as_retriever(search_kwargs={"k": self.settings.top_sentences}),
            self.lexical,
        ]
        return retrieve(retrievers, query)

    def stats(self) -> dict:
        """What is indexed: articles, chunks and the embedding model."""
        per_path = self.store.chunks_per_path()
        return {"articles": len(per_path), "chunks": sum(per_path.values()), "model": self.settings.embedding_model}

    def passage(self, source: str, chunk: int) -> str:
        """The indexed chunk a citation comes from: the quote's surrounding text."""
        found = self.store.vectors.get(where={"$and": [{"source": source}, {"chunk": chunk}]}, include=["documents"])
        if not found["documents"]:
            raise InvalidInput(f"{source}: no chunk {chunk} in the index")
        return found["documents"][0]

    def article(self, source: str) -> Article:
        """The whole article behind a cited file name, read from the file that was ingested."""
        found = self.store.vectors.get(where={"source": source}, limit=1, include=["metadatas"])
        if not found["metadatas"]:
            raise InvalidInput(f"{source}: not an indexed article")
        return load_article(Path(found["metadatas"][0]["path"]), self.settings.max_file_bytes)

    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidQuestion("the question is empty; type a question about the articles")
        question = " ".join(question.split())
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"the question is {len(question)} characters long; the limit is {self.settings.max_question_chars}"
            )
        if self.store.count() == 0:
            raise EmptyIndex("nothing is indexed yet; run `rag ingest` (defaults to seeds/) first")
        return question


def _check_history(history: History) -> list[tuple[str, str]]:
    try:
        pairs = [(str(q), str(a)) for q, a in history]
    except (TypeError, ValueError) as exc:
        raise InvalidQuestion("history must be a list of [question, answer] pairs") from exc
    return pairs


def _compose(question: str, chosen: list[Scored]) -> Answer:
    citations = _citations(chosen)
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(question=question, answer=text, citations=citations)


def _citations(chosen: list[Scored]) -> list[Citation]:
    return [
        Citation(
            n=n,
            source=s.sentence.source,
            title=s.sentence.title,
            quote=s.sentence.text,
            start=s.sentence.start,
            end=s.sentence.end,
            chunk=s.sentence.chunk.metadata["chunk"],
            score=round(s.score, 4),
        )
        for n, s in enumerate(chosen, start=1)
    ]
