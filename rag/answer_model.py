"""The fitted weights behind answering: three logistic regressions over named features.

- ``span``: is this candidate (entity, noun phrase, number) the short answer?
- ``choice``: which of one sentence's candidates is it? A ranking fitted on pairs (the answer
  against each other candidate of its sentence), so it compares candidates rather than judging
  each alone; it has no intercept.
- ``sentence``: does this sentence hold the answer?
- ``answerable``: do the passages answer the question at all? Below ``threshold`` the assistant
  abstains.

They are fitted by ``rag calibrate`` (``rag.calibration``) on labelled questions, cross-validated by
article, and stored as a small JSON file of feature names and coefficients that a reader can
inspect: ``rag/models/answering.json`` by default, or ``Settings.answer_model``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.errors import InvalidInput

DEFAULT_PATH = Path(__file__).parent / "models" / "answering.json"


@dataclass(frozen=True)
class LinearModel:
    """``sigmoid(intercept + Σ coef[name] · value)``; features the model never saw weigh nothing."""

    coef: dict[str, float]
    intercept: float

    def logit(self, features: dict[str, float]) -> float:
        return self.intercept + sum(self.coef.get(name, 0.0) * value for name, value in features.items())

    def probability(self, features: dict[str, float]) -> float:
        return _sigmoid(self.logit(features))


@dataclass(frozen=True)
class AnswerModel:
    span: LinearModel
    sentence: LinearModel
    answerable: LinearModel
    threshold: float  # abstain when P(answerable) is below it
    span_threshold: float  # give no short answer when the best candidate's probability is below it
    fitted_on: str = ""  # what the fit saw, for the record
    choice: LinearModel | None = None  # ranks one sentence's candidates; None: rank by ``span``

    def chooser(self) -> LinearModel:
        return self.choice or self.span

    @classmethod
    def load(cls, path: Path | None = None) -> AnswerModel:
        path = path or DEFAULT_PATH
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                span=LinearModel(**raw["span"]),
                sentence=LinearModel(**raw["sentence"]),
                answerable=LinearModel(**raw["answerable"]),
                threshold=float(raw["threshold"]),
                span_threshold=float(raw["span_threshold"]),
                fitted_on=str(raw.get("fitted_on", "")),
                choice=LinearModel(**raw["choice"]) if raw.get("choice") else None,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}: not an answer model written by `rag calibrate` ({exc})") from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = asdict(self)
        # Largest weights first: the file reads as an explanation.
        for part in [p for p in ("span", "choice", "sentence", "answerable") if body[p]]:
            coef = body[part]["coef"]
            body[part]["coef"] = {k: round(v, 4) for k, v in sorted(coef.items(), key=lambda kv: -abs(kv[1])) if v}
            body[part]["intercept"] = round(body[part]["intercept"], 4)
        path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, x))))
