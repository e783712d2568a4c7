"""The one API every caller uses (the CLI, the chat UI, the HTTP APIs and the evaluation): a thin facade.

A question goes through the stages in order, each in its own module:

1. check the input (``rag.validation``) and build the query with its conversation (``rag.conversation``);
2. retrieve and rerank (``rag.search``): the fused passages and every candidate sentence scored;
3. answer (``rag.answer``): pick the sentences and the short answer, or abstain; ``rag.compose``
   quotes them;
4. with a language model, write and check (``rag.generate``, ``rag.grounding``): only sentences the
   checker passed are streamed, and a failed generation falls back to the quoted answer.

The results (``Answer``, ``Citation``, ``Stats``) live in ``rag.results``; ``stream`` returns a
``rag.response.Response``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from functools import cached_property
from pathlib import Path

from langchain_core.documents import Document

from rag.answer import ExtractiveAnswerer
from rag.answer_model import AnswerModel
from rag.compose import ABSTENTION, abstention, quoted, quoted_answer, written_answer
from rag.conversation import History, Query
from rag.errors import InvalidInput, NotFound
from rag.filters import ArticleFilter
from rag.ingest import IngestReport, ingest
from rag.lexical import LexicalRetriever
from rag.loading import Article, load_article, shown_path
from rag.nlp import shared_parser
from rag.rerank import Reranker, Scored
from rag.response import Response
from rag.results import Answer, Citation, Stats
from rag.retrieve import uses_bm25
from rag.search import Searcher, newer_wins_ties
from rag.settings import Settings
from rag.similarity import VectorCache
from rag.store import Store
from rag.validation import check_history, check_mode, check_question, shown

# Re-exported: callers import these from here.
__all__ = ["ABSTENTION", "Answer", "Assistant", "Citation", "Response", "Stats", "newer_wins_ties", "quoted"]


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

    @cached_property
    def store(self) -> Store:
        return Store(self.settings)

    @cached_property
    def vectors(self) -> VectorCache:
        """Sentence vectors shared by the reranker, the answerer and the grounding check."""
        return VectorCache(self.store.embeddings)

    @cached_property
    def searcher(self) -> Searcher:
        """Stage 2: retrieve and rerank."""
        return Searcher(self.settings, self.store, self.vectors)

    @property
    def reranker(self) -> Reranker:
        return self.searcher.reranker

    @property
    def lexical(self) -> LexicalRetriever:
        """BM25 over the indexed sentences as they are now; use it while holding ``store.reading()``."""
        return self.searcher.bm25.current()

    @cached_property
    def answerer(self) -> ExtractiveAnswerer:
        """Stage 3: picks the sentences that answer (or abstains) and the short answer."""
        return ExtractiveAnswerer(
            self.vectors,
            AnswerModel.load(self.settings.answer_model),
            shared_parser(),
            max_sentences=self.settings.max_answer_sentences,
            rarity=self.searcher.rarity,
        )

    @cached_property
    def generator(self):
        """Stage 4, with ``--llm local|openai``: the language-model answerer, its sentences checked."""
        from rag.generate import GenerativeAnswerer  # LLM packages load only when one is configured
        from rag.llm import chat_model

        return GenerativeAnswerer(
            chat_model(self.settings),
            self.vectors.similarity,  # the cache already holds the passages' vectors
            timeout=self.settings.llm_timeout,
            min_support=self.settings.llm_min_support,
        )

    @property
    def modes(self) -> list[str]:
        """The answer modes ``ask(..., mode=)`` accepts here (``extractive``, ``llm``); the first is the default."""
        return ["llm", "extractive"] if self.settings.llm != "none" else ["extractive"]

    def ingest(self, paths: list[Path] | None = None, progress: bool | None = None) -> IngestReport:
        report = ingest(list(paths or self.settings.corpus), self.settings, self.store, progress=progress)
        if uses_bm25(self.settings) and self.settings.top_sentences:
            with self.store.reading():
                _ = self.lexical  # built (and saved) now, so the first question does not wait for it
        return report

    def ask(
        self, question: str, history: History = (), mode: str | None = None, filters: ArticleFilter | None = None
    ) -> Answer:
        """The answer: quoted sentences, or with ``--llm`` a written answer whose sentences were checked.

        ``mode`` picks who writes it (``"extractive"`` or ``"llm"``; the HTTP field ``answerer``);
        ``filters`` restricts retrieval to articles of a date range and outlets.
        """
        return self.stream(question, history, mode, filters).answer

    def stream(
        self, question: str, history: History = (), mode: str | None = None, filters: ArticleFilter | None = None
    ) -> Response:
        """The answer as a :class:`Response`: iterate it for a written answer's checked sentences as the model
        produces them, then read ``.answer``.

        Only sentences the checker accepted are streamed; ``.answer`` is authoritative (after a fallback it
        holds quoted sentences that replace whatever was streamed). A quoted answer streams no sentence.
        Bad input raises here, before anything is streamed.
        """
        mode = check_mode(mode, self.modes)
        checked = check_question(question, self.settings.max_question_chars), check_history(history)
        return Response(self._pipeline(*checked, mode, filters or ArticleFilter()))

    def _pipeline(
        self, question: str, history: list[tuple[str, str]], mode: str, filters: ArticleFilter
    ) -> Generator[str, None, Answer]:
        query = Query.build(question, history)
        if mode == "llm" and self.settings.llm_rewrite:
            rewritten = self.generator.rewrite(question, history)
            if rewritten:
                query = dataclasses.replace(query, standalone=rewritten)
        documents, scored = self.rank(query, filters)
        decision = self.answerer.select(query, scored)
        if not decision.chosen:  # weak evidence: abstain before any model is asked
            unmatched = filters and not documents
            notice = f"No indexed article matches the filter ({filters.describe()})." if unmatched else None
            return abstention(question, mode, notice)
        quoted = quoted_answer(question, decision)
        if mode == "extractive":
            return quoted
        return (yield from self._written(query, decision.chosen, quoted))

    def _written(self, query: Query, chosen: list[Scored], quoted: Answer) -> Generator[str, None, Answer]:
        from rag.grounding import Passage

        # Only the sentences the quoting answerer chose: any weaker passage led the small model to true
        # but beside-the-point answers cited to the wrong article (citation precision 0.85, then 0.93).
        ranked = list({s.sentence.in_context: s for s in chosen}.values())[: self.settings.llm_passages]
        passages = [Passage(s.sentence.in_context, (s.sentence.source, s.sentence.start)) for s in ranked]
        outcome = yield from self.generator.stream(query.standalone, passages)
        return written_answer(quoted, outcome, ranked, self.settings.llm_timeout)

    def search(self, question: str, history: History = (), filters: ArticleFilter | None = None) -> list[Document]:
        """The passages retrieved for a question, best first (reranked unless ``rerank`` is off)."""
        return self.rank(self._query(question, history), filters)[0]

    def ranked(self, question: str, history: History = (), filters: ArticleFilter | None = None) -> list[Scored]:
        """Every candidate sentence with its scores, best first: what ``ask`` chose from, and why."""
        return self.rank(self._query(question, history), filters)[1]

    def _query(self, question: str, history: History) -> Query:
        return Query.build(check_question(question, self.settings.max_question_chars), check_history(history))

    def rank(self, query: Query, filters: ArticleFilter | None = None) -> tuple[list[Document], list[Scored]]:
        """retrieve → rerank for an analysed query: passages and scored sentences, best first.

        Every question passes through here, so a subclass may override it to observe the ranking an
        answer came from (``rag eval`` does, to score hit@k without searching twice).
        """
        return self.searcher.search(query, filters)

    def stats(self) -> Stats:
        """What is indexed: articles, chunks and the embedding model."""
        with self.store.reading():
            per_path = self.store.chunks_per_path()
        return Stats(articles=len(per_path), chunks=sum(per_path.values()), model=self.settings.embedding_model)

    def openings(self, limit: int = 20, chars: int = 300) -> list[str]:
        """The first lines after the title of up to ``limit`` indexed articles, for example questions."""
        with self.store.reading():
            if self.store.count() == 0:
                return []
            found = self.store.first_chunks(limit)
        return [text.partition("\n")[2][:chars] for text in found if "\n" in text]

    def passage(self, source: str, chunk: int) -> str:
        """The indexed chunk a citation comes from: the quote's surrounding text."""
        with self.store.reading():
            found = self.store.chunk_text(source, chunk)
        if found is None:
            raise NotFound(f"{shown(source)}: no chunk {chunk} in the index")
        return found

    def article(self, source: str) -> Article:
        """The whole article behind a cited file name, read from the file that was ingested.

        Only indexed files can be named: ``source`` is looked up in the index, never joined to a path.
        Raises :class:`NotFound` when it is not indexed or its file can no longer be read.
        """
        if not isinstance(source, str) or not source or len(source) > 1000:
            raise NotFound("not an indexed article")
        with self.store.reading():
            found = self.store.source_metadata(source, limit=1)
        if not found:
            raise NotFound(f"{shown(source)}: not an indexed article")
        path = Path(found[0]["path"])
        try:
            return load_article(path, self.settings.max_file_bytes, source)
        except InvalidInput as problem:  # say why, but never where: the path is this machine's business
            why = str(problem).removeprefix(f"{shown_path(path)}: ")
            raise NotFound(f"{shown(source)}: the article file cannot be read ({why}); ingest it again") from None
