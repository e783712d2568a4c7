"""The one API every caller uses: the CLI, the chat UI, the HTTP API and the evaluation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from langchain_core.documents import Document

from rag.answer import ExtractiveAnswerer, Scored, candidates
from rag.conversation import History, Query
from rag.errors import EmptyIndex, InvalidInput, InvalidQuestion
from rag.ingest import IngestReport, ingest
from rag.lexical import BM25Index, LexicalRetriever
from rag.loading import Article, load_article
from rag.retrieve import retrieve
from rag.settings import Settings
from rag.store import Store, pages

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
        index = BM25Index(pages(self.store.sentence_vectors, "documents"))
        return LexicalRetriever(index=index, fetch=self.store.sentences_by_id, k=self.settings.top_sentences)

    def ingest(self, paths: list[Path] | None = None, progress: bool | None = None) -> IngestReport:
        report = ingest(list(paths or self.settings.corpus), self.settings, self.store, progress=progress)
        self.__dict__.pop("lexical", None)  # rebuilt from the new index on the next question
        return report

    def ask(self, question: str, history: History = ()) -> Answer:
        question = self._check(question)
        query = Query.build(question, _check_history(history))
        chosen = self.answerer.select(query, self._retrieve(query))
        if not chosen:
            return Answer(question=question, answer=ABSTENTION, abstained=True)
        return _compose(question, chosen)

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
        documents = retrieve(retrievers, query)
        self.answerer.remember(self.store.sentence_vectors_of(documents))
        return documents

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
