"""The answer stage's output: an :class:`Answer` made from the sentences chosen, or from a checked generation.

Quoted answers read ``Sofia Almeida [1]. “Northfield United have named Sofia Almeida ...” [1]``:
the short answer, then the evidence. A written answer keeps the checker's sentences, cited in the
order it renumbered them; when the model failed, the quoted answer is shown with a notice saying why.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from rag.filters import shown_date
from rag.results import Answer, Citation

if TYPE_CHECKING:
    from rag.answer import Decision
    from rag.generate import Generated
    from rag.rerank import Scored

ABSTENTION = "The articles don't say. I found nothing in them that answers this question."
FALLBACK = "showing sentences quoted from the articles instead."
NOTICES = {
    "timeout": "The language model did not finish within {timeout:g} s; " + FALLBACK,
    "unsupported": "The language model's answer was not supported by the articles' passages; " + FALLBACK,
    "refused": "The language model found no answer in the passages.",
    "dropped": "{dropped} sentence(s) of the language model's answer were left out: no passage supports them.",
}


def abstention(question: str, mode: str, notice: str | None = None) -> Answer:
    return Answer(question=question, answer=ABSTENTION, abstained=True, answerer=mode, notice=notice)


def quoted_answer(question: str, decision: Decision) -> Answer:
    """The short answer (when there is one) with its marker, then the chosen sentences quoted."""
    citations = citations_of(decision.chosen)
    short = decision.short
    if short is None:
        return Answer(question=question, answer=" ".join(quoted(c) for c in citations), citations=citations)
    evidence = " ".join(quoted(c, marks=True) for c in citations)
    n = next(c.n for c in citations if c.source == short.source and c.start <= short.start < c.end)
    return Answer(question=question, answer=f"{short.text} [{n}]. {evidence}", citations=citations, short_answer=short)


def written_answer(quoted: Answer, outcome: Generated, ranked: list[Scored], timeout: float) -> Answer:
    """The model's checked answer citing ``ranked`` (the passages it was given), or ``quoted`` with a notice."""
    grounded = outcome.grounded
    question = quoted.question
    if outcome.failure:
        reason = "error" if outcome.failure.startswith("error") else outcome.failure
        notice = NOTICES.get(reason, "The language model failed ({failure}); " + FALLBACK)
        notice = notice.format(timeout=timeout, failure=outcome.failure.removeprefix("error: "))
        return dataclasses.replace(quoted, notice=notice, grounding=grounded)
    if not grounded.sentences:
        return Answer(question, ABSTENTION, [], True, "llm", NOTICES["refused"], grounded)
    cited = [ranked[i] for i in grounded.cited]
    notice = NOTICES["dropped"].format(dropped=grounded.dropped) if grounded.dropped else None
    return Answer(question, grounded.text, citations_of(cited), False, "llm", notice, grounded)


def quoted(citation: Citation, marks: bool = False) -> str:
    """A quote (in quotation marks after a short answer) with its marker and, for a dated article, its date:
    "… [1] (11 Feb 2025)"."""
    date = shown_date(citation.date)
    text = f"“{citation.quote}”" if marks else citation.quote
    return f"{text} [{citation.n}]" + (f" ({date})" if date else "")


def citations_of(chosen: list[Scored]) -> list[Citation]:
    """One citation per scored sentence, numbered 1..n in order."""
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
