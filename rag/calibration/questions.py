"""Labelled questions for calibration: read from any JSONL file, with the evidence the answerer read."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from rag.answer import DEPTH
from rag.conversation import Query
from rag.errors import InvalidInput
from rag.evaluation.metrics import squad_tokens
from rag.evidence import Evidence
from rag.evidence import gather as evidence_for
from rag.nlp import shared_parser

UNSOURCED_FOLDS = 5  # questions citing no file (unanswerable ones) are hashed into this many groups


@dataclass
class Labelled:
    """One question with its gold answer, and the evidence the answerer gathered for it."""

    id: str
    set: str  # which question file it came from
    question: str
    answers: list[str]
    sources: list[str]
    answerable: bool
    group: str  # the article it is about: cross-validation never splits one
    evidence: Evidence | None = None


def read_questions(path: Path, name: str) -> list[Labelled]:
    """Question records from a JSONL file: ``question`` is required; unknown fields are ignored."""
    cases = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the question file ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            question = record["question"]
            answers = list(record.get("answers") or [])
            sources = list(record.get("sources") or [])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}:{number}: not a question record ({exc})") from exc
        answerable = bool(record.get("answerable", record.get("kind") != "unanswerable" and bool(answers)))
        if record.get("history"):
            continue  # follow-ups depend on an earlier answer: calibrated on standalone questions only
        anchor = (sources or [record.get("written_against") or ""])[0]
        group = anchor or f"unsourced-{int(hashlib.sha256(question.encode()).hexdigest(), 16) % UNSOURCED_FOLDS}"
        cases.append(Labelled(str(record.get("id", number)), name, question, answers, sources, answerable, group))
    return cases


def gather(assistant, cases: list[Labelled], progress: bool = False) -> None:
    """Ask each question once and keep the evidence the answerer read."""
    from tqdm import tqdm

    titles: dict[str, str] = {}
    for case in tqdm(cases, desc="gathering", unit="q", disable=not progress, file=sys.stderr):
        scored = assistant.ranked(case.question)
        query = Query.build(case.question)
        case.evidence = evidence_for(shared_parser(), query, scored, DEPTH, assistant.searcher.rarity)
        for item in scored:
            titles.setdefault(item.sentence.source, item.sentence.title)
    for case in cases:  # an article is what its files' titles share (one Wikipedia page, many paragraphs)
        if not case.group.startswith("unsourced-"):
            case.group = f"{case.set}:{titles.get(case.group, case.group)}"


def holds(text: str, answers: list[str]) -> bool:
    """An answer occurs in ``text`` once both are normalised as SQuAD does (case, punctuation, articles)."""
    folded = " ".join(squad_tokens(text))
    return any(squad_tokens(a) and " ".join(squad_tokens(a)) in folded for a in answers)


def answerable_sentences(case: Labelled):
    return case.evidence.sentences if case.answerable and case.evidence else []


def right_sentence(case: Labelled, sentence) -> bool:
    item = sentence.scored.sentence
    return item.source in case.sources and holds(item.in_context, case.answers)
