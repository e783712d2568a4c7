"""An evaluation set: one JSON record per line, each a question with what a right answer contains.

Any question file a user brings loads: fields this module does not know are ignored (a benchmark's
own bookkeeping), ``kind`` is a free-text label that groups the per-kind table, and only what
scoring needs is checked. A bad line is refused with its line number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints, ValidationError, model_validator

from rag.errors import InvalidInput
from rag.validation import problems

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
UNANSWERABLE = "unanswerable"


class Case(BaseModel):
    """One known question; ``answers`` are aliases ("Maja Okafor", "Okafor"), any one of which is right.

    ``kind`` defaults to ``answerable`` / ``unanswerable`` and ``answerable`` to whether the kind is
    ``unanswerable``, so a file may give either, both, or neither (then the question is answerable).
    ``plausible_answers`` (SQuAD 2.0) are the tempting wrong answers of an unanswerable question.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Text
    kind: Text
    question: Text
    answers: list[Text] = []
    sources: list[Text] = []
    history: list[tuple[str, str]] = []
    answerable: StrictBool = True
    plausible_answers: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, record: object) -> object:
        if not isinstance(record, dict):
            raise ValueError(f"expected a JSON object, got {type(record).__name__}")
        record = dict(record)
        if record.get("kind") is None:
            record["kind"] = "answerable" if record.get("answerable", True) is not False else UNANSWERABLE
        if record.get("answerable") is None:
            record["answerable"] = record["kind"] != UNANSWERABLE
        return record

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.answerable and self.kind == UNANSWERABLE:
            raise ValueError("kind `unanswerable` contradicts `answerable: true`")
        if self.answerable and not (self.answers and self.sources):
            raise ValueError("an answerable question needs `answers` and `sources`")
        if not self.answerable and (self.answers or self.sources):
            raise ValueError("an unanswerable question has no `answers` or `sources`")
        return self


def load_cases(path: Path) -> list[Case]:
    """Read and check every record, naming the line of the first bad one; a line without ``id`` is ``line-N``."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the evaluation set ({exc})") from exc
    cases, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}:{number}: not a JSON object ({exc.msg})") from exc
        if isinstance(record, dict) and "id" not in record:
            record["id"] = f"line-{number}"
        try:
            case = Case.model_validate(record)
        except ValidationError as exc:
            raise InvalidInput(f"{path}:{number}: {problems(exc)}") from exc
        if case.id in seen:
            raise InvalidInput(f"{path}:{number}: duplicate id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise InvalidInput(f"{path}: the evaluation set is empty")
    return cases
