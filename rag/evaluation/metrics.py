"""Score one answer against its case, and sum outcomes up into metrics, overall and per kind.

Retrieval, answer and citation metrics are means over answerable questions; abstention is
measured on both sides (unanswerable questions should abstain, answerable ones should not).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass

from rag.assistant import Answer
from rag.evaluation.dataset import Case

# name -> (what it measures, higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "hit_at_1": ("an expected file is the top-ranked source", True),
    "hit_at_5": ("an expected file is among the top five sources", True),
    "mrr": ("mean reciprocal rank of the first expected file", True),
    "accuracy": ("an accepted answer appears in the answer", True),
    "token_f1": ("token F1 of the answer against the best accepted answer", True),
    "citation_precision": ("share of cited files that are expected", True),
    "citation_recall": ("share of expected files that are cited", True),
    "abstain_accuracy": ("share of unanswerable questions answered with an abstention", True),
    "false_abstention": ("share of answerable questions wrongly abstained on", False),
    "latency_p50_ms": ("median time per question", False),
    "latency_p95_ms": ("95th percentile time per question", False),
}
QUALITY = [name for name in METRICS if not name.startswith("latency")]
# Reported beside the metrics but never gated: they describe a run, they are not better or worse.
INFO: dict[str, str] = {
    "generated": "share of given answers a language model wrote and the checker kept (the rest are quoted)",
}
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Outcome:
    """How the assistant did on one case."""

    id: str
    kind: str
    question: str
    answerable: bool
    abstained: bool
    answer: str
    answerer: str  # "llm" when a language model wrote the answer, else "extractive"
    cited: list[str]  # distinct cited files, in citation order
    ranked: list[str]  # distinct source files, best first
    expected: list[str]
    answers: list[str]
    ms: float
    hit_at_1: bool
    hit_at_5: bool
    reciprocal_rank: float
    correct: bool
    token_f1: float
    citation_precision: float | None  # None when nothing is cited
    citation_recall: float

    @property
    def passed(self) -> bool:
        return self.abstained if not self.answerable else self.correct and self.hit_at_1

    def to_dict(self) -> dict:
        return asdict(self) | {"passed": self.passed}


def score(case: Case, answer: Answer, ranked: list[str], ms: float) -> Outcome:
    cited = list(dict.fromkeys(c.source for c in answer.citations))
    expected = set(case.sources)
    rank = next((i for i, source in enumerate(ranked, start=1) if source in expected), None)
    text = "" if answer.abstained else answer.answer
    return Outcome(
        id=case.id,
        kind=case.kind,
        question=case.question,
        answerable=case.answerable,
        abstained=answer.abstained,
        answer=answer.answer,
        answerer=answer.answerer,
        cited=cited,
        ranked=ranked,
        expected=case.sources,
        answers=case.answers,
        ms=round(ms, 1),
        hit_at_1=rank == 1,
        hit_at_5=rank is not None and rank <= 5,
        reciprocal_rank=1 / rank if rank else 0.0,
        correct=any(_normal(alias) in _normal(text) for alias in case.answers),
        token_f1=max((token_f1(text, alias) for alias in case.answers), default=0.0),
        citation_precision=len(expected.intersection(cited)) / len(cited) if cited else None,
        citation_recall=len(expected.intersection(cited)) / len(expected) if expected else 0.0,
    )


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style F1 over lower-cased word tokens: rewards answers that are right *and* short."""
    got, want = Counter(_tokens(prediction)), Counter(_tokens(reference))
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def summarize(outcomes: list[Outcome]) -> dict[str, float | int]:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    cited = [o.citation_precision for o in answerable if o.citation_precision is not None]
    figures: dict[str, float | int | None] = {
        "questions": len(outcomes),
        "hit_at_1": _mean(o.hit_at_1 for o in answerable),
        "hit_at_5": _mean(o.hit_at_5 for o in answerable),
        "mrr": _mean(o.reciprocal_rank for o in answerable),
        "accuracy": _mean(o.correct for o in answerable),
        "token_f1": _mean(o.token_f1 for o in answerable),
        "citation_precision": _mean(cited),
        "citation_recall": _mean(o.citation_recall for o in answerable),
        "abstain_accuracy": _mean(o.abstained for o in unanswerable),
        "false_abstention": _mean(o.abstained for o in answerable),
        "generated": _mean(o.answerer == "llm" for o in outcomes if not o.abstained),
        "latency_p50_ms": _percentile([o.ms for o in outcomes], 0.50),
        "latency_p95_ms": _percentile([o.ms for o in outcomes], 0.95),
    }
    return {name: value for name, value in figures.items() if value is not None}


def per_kind(outcomes: list[Outcome]) -> dict[str, dict[str, float | int]]:
    kinds = dict.fromkeys(o.kind for o in outcomes)
    return {kind: summarize([o for o in outcomes if o.kind == kind]) for kind in kinds}


def _mean(values) -> float | None:
    values = [float(v) for v in values]
    return round(statistics.fmean(values), 4) if values else None


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[round(share * (len(ordered) - 1))], 1)


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())
