"""The one API every caller uses: the CLI, the chat UI, the HTTP API and the evaluation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from langchain_core.documents import Document

from rag.answer import ExtractiveAnswerer
from rag.conversation import History, Query
from rag.errors import EmptyIndex, InvalidInput, InvalidQuestion
from rag.ingest import IngestReport, ingest
from rag.lexical import LexicalRetriever
from rag.loading import Article, load_article
from rag.multilingual import load_multilingual
from rag.rerank import Reranker, Scored, candidates, rerank_documents
from rag.retrieve import fused_retriever, retrieve
from rag.settings import Settings
from rag.store import Store

ABSTENTION = "The articles don't say. I found nothing in them that answers this question."


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

    def to_dict(self) -> dict:
        return asdict(self)


class Assistant:
    """Answers questions about the ingested articles, citing the passages it quotes.

    >>> assistant = Assistant()                     # settings from RAG_* environment variables
    >>> assistant.ask("Who is Pakistan's envoy to the UN?").answer
    """

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self._lexical: tuple[tuple[int, float], LexicalRetriever] | None = None

    @cached_property
    def store(self) -> Store:
        return Store(self.settings)

    @cached_property
    def reranker(self) -> Reranker:
        return Reranker(
            self.store.embeddings, load_multilingual(self.settings.multilingual_model), signals=self.settings.rerank
        )

    @cached_property
    def answerer(self) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(
            self.reranker,
            min_relevance=self.settings.min_relevance,
            max_sentences=self.settings.max_answer_sentences,
        )

    @property
    def lexical(self) -> LexicalRetriever:
        """BM25 over the indexed sentences, rebuilt when the index changed (here or in another process)."""
        version = self.store.version()
        if self._lexical is None or self._lexical[0] != version:
            documents = self.store.all_sentences()
            self._lexical = (version, LexicalRetriever(documents=documents, k=self.settings.top_sentences))
        return self._lexical[1]

    def ingest(self, paths: list[Path] | None = None, progress: bool | None = None) -> IngestReport:
        report = ingest(list(paths or self.settings.corpus), self.settings, self.store, progress=progress)
        return report

    def ask(self, question: str, history: History = ()) -> Answer:
        query = Query.build(self._check(question), _check_history(history))
        _, scored = self._search(query)
        chosen = self.answerer.select(scored)
        if not chosen:
            return Answer(question=query.asked, answer=ABSTENTION, abstained=True)
        return _compose(query.asked, chosen)

    def search(self, question: str, history: History = ()) -> list[Document]:
        """The passages retrieved for a question, best first (reranked unless ``rerank`` is off)."""
        return self._search(Query.build(self._check(question), _check_history(history)))[0]

    def ranked(self, question: str, history: History = ()) -> list[Scored]:
        """Every candidate sentence with its scores, best first: what ``ask`` chose from, and why."""
        return self._search(Query.build(self._check(question), _check_history(history)))[1]

    def _search(self, query: Query) -> tuple[list[Document], list[Scored]]:
        """retrieve → rerank: the fused passages, and the scored sentences of the best ``rerank_depth``."""
        documents = retrieve(self._retriever(), query)
        scored = self.reranker.score(query, candidates(documents[: self.settings.rerank_depth]))
        if self.settings.rerank:
            documents = rerank_documents(documents, scored)
        return documents, scored

    def _retriever(self):
        settings = self.settings
        chunks = self.store.vectors.as_retriever(search_kwargs={"k": settings.top_k}) if settings.top_k else None
        sentences = keywords = None
        if settings.top_sentences:  # a depth of 0 turns the sentence searches off
            sentences = self.store.sentence_vectors.as_retriever(search_kwargs={"k": settings.top_sentences})
            keywords = self.lexical
        return fused_retriever(settings, chunks, sentences, keywords)

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
    citations = [
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
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(question=question, answer=text, citations=citations)
