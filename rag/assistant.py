"""The one API every caller uses: the CLI, the chat UI, the HTTP API and the evaluation."""

from __future__ import annotations

import dataclasses
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from langchain_core.documents import Document

from rag.answer import Decision, ExtractiveAnswerer, ShortAnswer
from rag.answer_model import AnswerModel
from rag.conversation import History, Query
from rag.errors import EmptyIndex, InvalidInput, InvalidQuestion, RagError
from rag.filters import ArticleFilter, asks_for_recent, shown_date
from rag.ingest import IngestReport, ingest
from rag.lexical import BM25Index, LexicalRetriever, fingerprint
from rag.loading import Article, load_article, shown_path
from rag.multilingual import load_multilingual
from rag.nlp import shared_parser
from rag.rerank import Reranker, Scored, candidates, rerank_documents
from rag.retrieve import fused_retriever, retrieve, uses_bm25
from rag.settings import Settings
from rag.store import Store, all_ids, pages

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
    date: str | None = None  # the article's date, ISO YYYY-MM-DD, when it gives one
    outlet: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    answerer: str = "extractive"  # "llm" when a language model wrote (and the checker passed) the answer
    notice: str | None = None  # shown beside the answer: a fallback, or sentences left out
    grounding: dict | None = None  # the checker's counts for a generated answer: kept, dropped, ...
    short_answer: ShortAnswer | None = None  # the name, number or phrase asked for, a verbatim span of a file

    def to_dict(self) -> dict:
        return asdict(self)


class Assistant:
    """Answers questions about the ingested articles, citing the passages it quotes.

    Over an ingested index (an example, not a doctest: it needs one)::

        assistant = Assistant()  # settings from RAG_* environment variables
        assistant.ask("Who is Northfield United's new head coach?").answer

    Thread-safe: the web server answers many questions at once with one assistant. Each question
    reads the index under the store's shared lock, so an ingest running at the same time (in this
    process or another) is seen whole or not at all.
    """

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        # (index generation it was checked against, fingerprint of its sentences, BM25)
        self._bm25: tuple[str | None, str, LexicalRetriever] | None = None
        self._bm25_lock = threading.Lock()

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
            AnswerModel.load(self.settings.answer_model),
            shared_parser(),
            max_sentences=self.settings.max_answer_sentences,
        )

    @property
    def lexical(self) -> LexicalRetriever:
        """BM25 over the indexed sentences, kept in step with the index (even when another process wrote).

        After a write it is reused if the sentences are still the same, else loaded from disk if a
        process already built it for them, else built and saved. Call it while holding
        ``store.reading()``, so the sentences it reads belong to one generation.
        """
        built = self._bm25
        if built is not None and built[0] == self.store.generation:
            return built[2]
        with self._bm25_lock:  # one thread builds; the others wait for it rather than build it too
            return self._follow_lexical()

    def _follow_lexical(self) -> LexicalRetriever:
        built = self._bm25
        if built is not None and built[0] == self.store.generation:
            return built[2]
        mark = fingerprint(all_ids(self.store.sentence_vectors))
        if built is None or built[1] != mark:
            path = self.settings.data_dir / f"bm25-{self.settings.collection}.npz"
            index = BM25Index.load(path, mark)
            if index is None:
                index = BM25Index(pages(self.store.sentence_vectors, "documents"))
                index.save(path, mark)
            retriever = LexicalRetriever(index=index, fetch=self.store.sentences_by_id, k=self.settings.top_sentences)
        else:
            retriever = built[2]
        self._bm25 = (self.store.generation, mark, retriever)
        return retriever

    def ingest(self, paths: list[Path] | None = None, progress: bool | None = None) -> IngestReport:
        report = ingest(list(paths or self.settings.corpus), self.settings, self.store, progress=progress)
        if uses_bm25(self.settings) and self.settings.top_sentences:
            with self.store.reading():
                _ = self.lexical  # built (and saved) now, so the first question does not wait for it
        return report

    @cached_property
    def generator(self):
        """The language-model answerer the settings configure (``--llm local|openai``)."""
        from rag.generate import GenerativeAnswerer  # LLM packages load only when one is configured
        from rag.llm import chat_model

        return GenerativeAnswerer(
            chat_model(self.settings),
            self.reranker.similarity,  # the reranker's cache already holds the passages' vectors
            timeout=self.settings.llm_timeout,
            min_support=self.settings.llm_min_support,
        )

    @property
    def answerers(self) -> list[str]:
        """What ``ask(..., answerer=)`` accepts here: the first is the default."""
        return ["llm", "extractive"] if self.settings.llm != "none" else ["extractive"]

    def ask(
        self, question: str, history: History = (), answerer: str | None = None, filters: ArticleFilter | None = None
    ) -> Answer:
        """The answer: quoted sentences, or with ``--llm`` a written answer whose sentences were checked.

        ``filters`` restricts retrieval to articles of a date range and outlets.
        """
        *_, answer = self.stream(question, history, answerer, filters)
        return answer

    def stream(
        self, question: str, history: History = (), answerer: str | None = None, filters: ArticleFilter | None = None
    ) -> Iterator[str | Answer]:
        """Checked sentences of a written answer as the model produces them, then the final ``Answer``.

        Only sentences the checker accepted are yielded; the final ``Answer`` is authoritative (after a
        fallback it holds quoted sentences that replace whatever was streamed). The extractive answerer
        yields the ``Answer`` alone.
        """
        answerer = self._answerer(answerer)  # bad input fails here, before anything is streamed
        return self._stream(self._check(question), _check_history(history), answerer, filters or ArticleFilter())

    def _stream(
        self, question: str, history: list[tuple[str, str]], answerer: str, filters: ArticleFilter
    ) -> Iterator[str | Answer]:
        query = Query.build(question, history)
        if answerer == "llm" and self.settings.llm_rewrite:
            rewritten = self.generator.rewrite(question, history)
            if rewritten:
                query = dataclasses.replace(query, standalone=rewritten)
        documents, scored = self._search(query, filters)
        decision = self.answerer.select(query, scored)
        chosen = decision.chosen
        if not chosen:  # weak evidence: abstain before any model is asked
            notice = (
                f"No indexed article matches the filter ({filters.describe()})." if filters and not documents else None
            )
            yield Answer(question=question, answer=ABSTENTION, abstained=True, answerer=answerer, notice=notice)
            return
        quoted = _compose(question, decision)
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

    def _answerer(self, answerer: str | None) -> str:
        if answerer is None:
            return self.answerers[0]
        if answerer not in ANSWERERS:
            raise InvalidQuestion(f"answerer must be one of {', '.join(ANSWERERS)}, not {answerer!r}")
        if answerer not in self.answerers:
            raise RagError("no language model is configured: start with --llm local or --llm openai")
        return answerer

    def search(self, question: str, history: History = (), filters: ArticleFilter | None = None) -> list[Document]:
        """The passages retrieved for a question, best first (reranked unless ``rerank`` is off)."""
        return self._search(Query.build(self._check(question), _check_history(history)), filters)[0]

    def ranked(self, question: str, history: History = (), filters: ArticleFilter | None = None) -> list[Scored]:
        """Every candidate sentence with its scores, best first: what ``ask`` chose from, and why."""
        return self._search(Query.build(self._check(question), _check_history(history)), filters)[1]

    def _search(self, query: Query, filters: ArticleFilter | None = None) -> tuple[list[Document], list[Scored]]:
        """retrieve → rerank: the fused passages, and the scored sentences of the best ``rerank_depth``."""
        with self.store.reading():  # one edition of the index, even while an ingest runs
            documents = retrieve(self._retriever(filters or ArticleFilter()), query)
            if not documents and self.store.count() == 0:  # counted only then: off the hot path
                raise EmptyIndex("nothing is indexed yet; run `rag ingest` (defaults to seeds/) first")
            pool = documents[: self.settings.rerank_depth]
            self.reranker.remember(self.store.sentence_vectors_of(pool))
        scored = self.reranker.score(query, candidates(pool))
        if self.settings.recency or asks_for_recent(query.asked):
            scored = newer_wins_ties(scored)
        if self.settings.rerank:
            documents = rerank_documents(documents, scored)
        return documents, scored

    def _retriever(self, filters: ArticleFilter):
        """The fused searches, each restricted to the articles ``filters`` allows."""
        settings = self.settings
        where = filters.where()
        narrowed = {"filter": where} if where else {}
        chunks = (
            self.store.vectors.as_retriever(search_kwargs={"k": settings.top_k, **narrowed}) if settings.top_k else None
        )
        sentences = keywords = None
        if settings.top_sentences:  # a depth of 0 turns the sentence searches off
            sentences = self.store.sentence_vectors.as_retriever(
                search_kwargs={"k": settings.top_sentences, **narrowed}
            )
            keywords = self.lexical if uses_bm25(settings) else None
            if keywords is not None and where:
                allowed = frozenset(self.store.sentence_vectors.get(where=where, include=[])["ids"])
                keywords = keywords.model_copy(update={"only": allowed})
        return fused_retriever(settings, chunks, sentences, keywords)

    def stats(self) -> dict:
        """What is indexed: articles, chunks and the embedding model."""
        with self.store.reading():
            per_path = self.store.chunks_per_path()
        return {"articles": len(per_path), "chunks": sum(per_path.values()), "model": self.settings.embedding_model}

    def openings(self, limit: int = 20, chars: int = 300) -> list[str]:
        """The first lines after the title of up to ``limit`` indexed articles, for example questions."""
        with self.store.reading():
            if self.store.count() == 0:
                return []
            found = self.store.vectors.get(where={"chunk": 0}, limit=limit, include=["documents"])
        return [text.partition("\n")[2][:chars] for text in found["documents"] if "\n" in text]

    def passage(self, source: str, chunk: int) -> str:
        """The indexed chunk a citation comes from: the quote's surrounding text."""
        with self.store.reading():
            found = self.store.vectors.get(
                where={"$and": [{"source": source}, {"chunk": chunk}]}, include=["documents"]
            )
        if not found["documents"]:
            raise InvalidInput(f"{source}: no chunk {chunk} in the index")
        return found["documents"][0]

    def article(self, source: str) -> Article:
        """The whole article behind a cited file name, read from the file that was ingested.

        Only indexed files can be named: ``source`` is looked up in the index, never joined to a path.
        """
        if not isinstance(source, str) or not source or len(source) > 1000:
            raise InvalidInput("not an indexed article")
        with self.store.reading():
            found = self.store.vectors.get(where={"source": source}, limit=1, include=["metadatas"])
        if not found["metadatas"]:
            raise InvalidInput(f"{_shown(source)}: not an indexed article")
        path = Path(found["metadatas"][0]["path"])
        try:
            return load_article(path, self.settings.max_file_bytes, source)
        except InvalidInput as problem:  # say why, but never where: the path is this machine's business
            why = str(problem).removeprefix(f"{shown_path(path)}: ")
            raise InvalidInput(f"{_shown(source)}: the article file cannot be read ({why}); ingest it again") from None

    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidQuestion("the question is empty; type a question about the articles")
        if len(question) > self.settings.max_question_chars * 4:  # don't even normalise a megabyte
            raise InvalidQuestion(
                f"the question is {len(question)} characters long; the limit is {self.settings.max_question_chars}"
            )
        question = " ".join(question.split())
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"the question is {len(question)} characters long; the limit is {self.settings.max_question_chars}"
            )
        _check_text(question, "the question")
        return question


def _check_text(text: str, what: str) -> None:
    """Refuse what no keyboard types: control characters (binary data) and lone surrogates."""
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            raise InvalidQuestion(f"{what} contains the control character U+{ord(char):04X}; send plain text")
        if category == "Cs":
            raise InvalidQuestion(f"{what} is not valid Unicode text (lone surrogate U+{ord(char):04X})")


MAX_HISTORY_CHARS = 200_000  # a long conversation is a few thousand characters


def _check_history(history: History) -> list[tuple[str, str]]:
    """``[(question, answer), ...]`` of strings; anything else is refused, not coerced."""
    problem = InvalidQuestion("history must be a list of [question, answer] pairs of strings")
    if not isinstance(history, list | tuple):
        raise problem
    pairs = []
    for pair in history:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise problem
        question, answer = pair
        if not isinstance(question, str) or not isinstance(answer, str):
            raise problem
        pairs.append((question, answer))
    if sum(len(q) + len(a) for q, a in pairs) > MAX_HISTORY_CHARS:
        raise InvalidQuestion(f"history is longer than {MAX_HISTORY_CHARS} characters; start a new conversation")
    for question, answer in pairs:
        _check_text(" ".join(f"{question} {answer}".split()), "the history")
    return pairs


def _shown(text: str, limit: int = 80) -> str:
    """User input echoed in a message: printable and short."""
    text = text.encode("unicode_escape", "backslashreplace").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[:limit] + "…"


def _compose(question: str, decision: Decision) -> Answer:
    """``Sofia Almeida [1]. “Northfield United have named Sofia Almeida ...” [1]``: short answer, then evidence."""
    citations = _citations(decision.chosen)
    short = decision.short
    if short is None:
        return Answer(question=question, answer=" ".join(quoted(c) for c in citations), citations=citations)
    evidence = " ".join(quoted(c, marks=True) for c in citations)
    n = next(c.n for c in citations if c.source == short.source and c.start <= short.start < c.end)
    return Answer(question=question, answer=f"{short.text} [{n}]. {evidence}", citations=citations, short_answer=short)


def quoted(citation: Citation, marks: bool = False) -> str:
    """A quote (in quotation marks after a short answer) with its marker and, for a dated article, its date:
    "… [1] (11 Feb 2025)"."""
    date = shown_date(citation.date)
    text = f"“{citation.quote}”" if marks else citation.quote
    return f"{text} [{citation.n}]" + (f" ({date})" if date else "")


# The newest candidate article gains this much reranker score, the oldest nothing: a small step, so recency
# decides between near ties and never beats a clearly better sentence.
RECENCY_TIE = 0.05


def newer_wins_ties(scored: list[Scored]) -> list[Scored]:
    """Rescore so that, among sentences scoring about the same, the newer article's comes first."""
    days = sorted({d for s in scored if isinstance(d := s.sentence.chunk.metadata.get("day"), int)})
    if len(days) < 2:
        return scored
    rank = {day: i / (len(days) - 1) for i, day in enumerate(days)}
    bumped = [
        dataclasses.replace(s, score=s.score + RECENCY_TIE * rank.get(s.sentence.chunk.metadata.get("day"), 0.0))
        for s in scored
    ]
    return sorted(bumped, key=lambda s: -s.score)


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
            date=s.sentence.chunk.metadata.get("date"),
            outlet=s.sentence.chunk.metadata.get("outlet"),
            url=s.sentence.chunk.metadata.get("url"),
        )
        for n, s in enumerate(chosen, start=1)
    ]
