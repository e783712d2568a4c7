"""Score one answer against its case, and sum outcomes up into metrics, overall and per kind.

Retrieval, answer and citation metrics are means over answerable questions; abstention is
measured on both sides (unanswerable questions should abstain, answerable ones should not).
Answers are compared the way SQuAD 2.0 scores them: accuracy is an accepted answer inside the
answer text (after Unicode NFKC and case folding) from a cited expected file; token F1 is the
official SQuAD F1 (lower case, no punctuation or articles), best over the accepted answers.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass

from rag.assistant import Answer
from rag.evaluation.dataset import Case

# name -> (what it measures, higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "hit_at_1": ("an expected file is the top-ranked source", True),
    "hit_at_5": ("an expected file is among the top five sources", True),
    "mrr": ("mean reciprocal rank of the first expected file", True),
    "accuracy": ("an accepted answer appears in the answer, which cites an expected file", True),
    "short_answer_f1": ("SQuAD token F1 of the short answer (0 when none, or abstained)", True),
    "answer_token_f1": ("SQuAD token F1 of the whole answer text (low for quoted sentences)", True),
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
    "trapped": "share of unanswerable questions answered with a tempting wrong span (`plausible_answers`)",
}
_ARTICLES = re.compile(r"\b(a|an|the)\b")


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
    short_answer: str | None  # the answer's short answer text, when it gave one
    short_answer_f1: float
    answer_token_f1: float
    traps: list[str]  # an unanswerable question's tempting wrong answers (SQuAD 2.0), if given
    trapped: bool  # the answer holds one of them
    citation_precision: float | None  # None when nothing is cited
    citation_recall: float

    @property
    def passed(self) -> bool:
        return self.abstained if not self.answerable else self.correct and self.hit_at_1

    def to_dict(self) -> dict:
        return asdict(self) | {"passed": self.passed}


def score(case: Case, answer: Answer, ranked: list[str], ms: float) -> Outcome:
    """Score one answer: its text, its short answer, its citations and the sources it ranked."""
    cited = list(dict.fromkeys(c.source for c in answer.citations))
    expected = set(case.sources)
    rank = next((i for i, source in enumerate(ranked, start=1) if source in expected), None)
    text = "" if answer.abstained else answer.answer
    short = answer.short_answer
    short_text = short.text if short is not None and not answer.abstained else None
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
        correct=contains_any(text, case.answers) and bool(expected.intersection(cited)),
        short_answer=short_text,
        short_answer_f1=best_f1(short_text or "", case.answers),
        answer_token_f1=best_f1(text, case.answers),
        traps=case.plausible_answers,
        trapped=contains_any(text, case.plausible_answers),
        citation_precision=len(expected.intersection(cited)) / len(cited) if cited else None,
        citation_recall=len(expected.intersection(cited)) / len(expected) if expected else 0.0,
    )


def contains_any(text: str, spans: list[str]) -> bool:
    """One of ``spans`` occurs in ``text``, compared after NFKC normalisation and case folding."""
    haystack = _folded(text)
    return bool(text) and any(_folded(span) in haystack for span in spans if span.strip())


def best_f1(prediction: str, references: list[str]) -> float:
    """The best token F1 of ``prediction`` over the accepted answers (0 for an empty prediction)."""
    return max((token_f1(prediction, reference) for reference in references), default=0.0)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD's token F1: rewards answers that are right *and* short."""
    got, want = Counter(squad_tokens(prediction)), Counter(squad_tokens(reference))
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def squad_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles (a, an, the), split on spaces.

    Punctuation is every Unicode punctuation character (curly quotes, dashes), a superset of the
    official script's ASCII list, so news text with typographic quotes is compared fairly; as in
    the official script it is removed, not replaced ("U.S." is "us").
    """
    text = "".join(ch for ch in text.lower() if not unicodedata.category(ch).startswith("P"))
    return _ARTICLES.sub(" ", text).split()


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
        "short_answer_f1": _mean(o.short_answer_f1 for o in answerable),
        "answer_token_f1": _mean(o.answer_token_f1 for o in answerable),
        "citation_precision": _mean(cited),
        "citation_recall": _mean(o.citation_recall for o in answerable),
        "abstain_accuracy": _mean(o.abstained for o in unanswerable),
        "false_abstention": _mean(o.abstained for o in answerable),
        "generated": _mean(o.answerer == "llm" for o in outcomes if not o.abstained),
        "trapped": _mean(o.trapped for o in unanswerable if o.traps),
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


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
