"""Leave-one-article-out replay of the answerer, and the abstention threshold sweep it yields."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rag.answer import decide
from rag.answer_model import AnswerModel
from rag.calibration.fitting import fit
from rag.calibration.questions import Labelled, holds
from rag.evaluation.metrics import best_f1

THRESHOLDS = [round(t, 2) for t in np.arange(0.05, 0.96, 0.05)]


@dataclass
class Outcome:
    answered: bool
    correct: bool
    short_f1: float
    answerable: bool
    probability: float


@dataclass
class Report:
    per_set: dict[str, dict[str, float]] = field(default_factory=dict)
    sweep: list[dict] = field(default_factory=list)
    threshold: float = 0.5


def outcome(case: Labelled, model: AnswerModel) -> Outcome:
    """What the answerer would do with this question under ``model``, scored against its gold answer."""
    decision = decide(case.evidence, model) if case.evidence else None
    probability = decision.answerable if decision else 0.0
    answered = bool(decision and decision.chosen)
    if not answered or not case.answerable:
        return Outcome(answered, not answered and not case.answerable, 0.0, case.answerable, probability)
    chosen = [scored.sentence for scored in decision.chosen]  # the evidence the answer would quote
    text = " ".join(s.text for s in chosen) + (" " + decision.short.text if decision.short else "")
    cited = {s.source for s in chosen}
    correct = holds(text, case.answers) and bool(cited & set(case.sources))
    short = best_f1(decision.short.text, case.answers) if decision.short else 0.0
    return Outcome(True, correct, short, True, probability)


def summarise(outcomes: list[Outcome]) -> dict[str, float]:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]

    def share(items, test):
        return round(sum(map(test, items)) / len(items), 3) if items else float("nan")

    return {
        "questions": len(outcomes),
        "accuracy": share(answerable, lambda o: o.correct),
        "short_f1": share(answerable, lambda o: o.short_f1),
        "abstain_unanswerable": share(unanswerable, lambda o: not o.answered),
        "false_abstention": share(answerable, lambda o: not o.answered),
    }


def cross_validate(cases: list[Labelled], max_false_abstention: dict[str, float]) -> Report:
    """Leave-one-article-out predictions, the threshold sweep, and the chosen operating point."""
    held_out: dict[str, tuple[Labelled, AnswerModel]] = {}
    groups = sorted({c.group for c in cases})
    for group in groups:
        model = fit([c for c in cases if c.group != group])
        for case in cases:
            if case.group == group:
                held_out[case.id + case.set] = (case, model)
    report = Report()
    by_set: dict[str, list[tuple[Labelled, AnswerModel]]] = defaultdict(list)
    for case, model in held_out.values():
        by_set[case.set].append((case, model))
    for threshold in THRESHOLDS:
        row: dict = {"threshold": threshold}
        for name, items in by_set.items():
            figures = summarise([outcome(c, _at(m, threshold)) for c, m in items])
            row[name] = figures
        report.sweep.append(row)
    allowed = [
        row
        for row in report.sweep
        if all(row[name]["false_abstention"] <= max_false_abstention.get(name, 1.0) for name in by_set)
    ]
    chosen = max(allowed, key=lambda r: r["threshold"]) if allowed else report.sweep[0]
    report.threshold = chosen["threshold"]
    report.per_set = {name: chosen[name] for name in by_set}
    return report


def _at(model: AnswerModel, threshold: float) -> AnswerModel:
    return replace(model, threshold=threshold)


def write_tradeoff(report: Report, folder: Path) -> tuple[Path, Path]:
    """The sweep as Markdown and as a PNG (abstention on unanswerable vs false abstention, per set)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    names = [k for k in report.sweep[0] if k != "threshold"]
    header = " | ".join(f"{n}: abstain / false abstention / accuracy / short F1" for n in names)
    lines = [f"| threshold | {header} |"]
    lines.append("|---|" + "---|" * len(names))
    for row in report.sweep:
        cells = [
            f"{row[n]['abstain_unanswerable']:.2f} / {row[n]['false_abstention']:.2f} / "
            f"{row[n]['accuracy']:.2f} / {row[n]['short_f1']:.2f}"
            for n in names
        ]
        mark = " **(default)**" if row["threshold"] == report.threshold else ""
        lines.append(f"| {row['threshold']:.2f}{mark} | " + " | ".join(cells) + " |")
    table = folder / "tradeoff.md"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    figure, axes = plt.subplots(figsize=(6, 4.5))
    for name in names:
        xs = [row[name]["false_abstention"] for row in report.sweep]
        ys = [row[name]["abstain_unanswerable"] for row in report.sweep]
        axes.plot(xs, ys, marker="o", label=name)
    axes.set_xlabel("false abstention (answerable questions not answered)")
    axes.set_ylabel("abstention on unanswerable questions")
    axes.set_title("Abstention trade-off, articles unseen by the fit")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    png = folder / "tradeoff.png"
    figure.savefig(png, dpi=120)
    plt.close(figure)
    return table, png
