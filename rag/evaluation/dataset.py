"""The evaluation set: one JSON record per line, each a question with what a right answer contains."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rag.errors import InvalidInput

KINDS = (
    "name",
    "number",
    "date",
    "place",
    "description",
    "multi_source",
    "paraphrase",
    "follow_up",
    "hindi",
    "unanswerable",
)


class Case(BaseModel):
    """One known question; ``answers`` are aliases ("Munir Akram", "Akram"), any one of which is right."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: str
    question: str = Field(min_length=1)
    answers: list[str] = []
    sources: list[str] = []
    history: list[tuple[str, str]] = []
    answerable: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.answerable and not (self.answers and self.sources):
            raise ValueError("an answerable question needs `answers` and `sources`")
        if not self.answerable and (self.answers or self.sources):
            raise ValueError("an unanswerable question has no `answers` or `sources`")
        if self.answerable == (self.kind == "unanswerable"):
            raise ValueError("`answerable: false` goes with kind `unanswerable`, and only with it")
        return self


def load_cases(path: Path) -> list[Case]:
    """Read and check every record, naming the line of the first bad one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the evaluation set ({exc})") from exc
    cases, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = Case.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}:{number}: not a JSON object ({exc.msg})") from exc
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors())
            raise InvalidInput(f"{path}:{number}: {problems}") from exc
        if case.id in seen:
            raise InvalidInput(f"{path}:{number}: duplicate id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise InvalidInput(f"{path}: the evaluation set is empty")
    return cases
