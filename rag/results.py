"""What the assistant returns: typed results with the JSON shapes the CLI and the HTTP APIs send."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from rag.answer import ShortAnswer
    from rag.grounding import Grounded


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
    grounding: Grounded | None = None  # the checker's verdict on a generated answer
    short_answer: ShortAnswer | None = None  # the name, number or phrase asked for, a verbatim span of a file

    def to_dict(self) -> dict:
        """The JSON answer: ``grounding`` is the checker's counts (kept, dropped, recited, unknown_markers)."""
        data = asdict(replace(self, grounding=None))
        data["grounding"] = self.grounding.counts() if self.grounding is not None else None
        return data


class Stats(TypedDict):
    """What is indexed (``Assistant.stats()``, the counts of ``GET /api/health``)."""

    articles: int
    chunks: int
    model: str  # the embedding model
