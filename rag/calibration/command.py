"""``rag calibrate``: index each corpus, gather evidence, cross-validate, fit and write the model."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from rag.calibration.crossval import cross_validate, write_tradeoff
from rag.calibration.fitting import fit
from rag.calibration.questions import Labelled, gather, read_questions
from rag.errors import InvalidInput


def run(args, settings) -> int:
    """Index each corpus, gather evidence for its questions, cross-validate, fit and write the model."""
    from rag.assistant import Assistant

    corpora = [list(settings.corpus)] * len(args.questions)
    if len(settings.corpus) == len(args.questions) > 1:  # --corpus A B --questions qa qb: paired in order
        corpora = [[c] for c in settings.corpus]
    cases: list[Labelled] = []
    for spec, corpus in zip(args.questions, corpora, strict=True):
        name, _, path = spec.rpartition("=")  # "seeds=eval/questions.jsonl" names the set
        questions = Path(path)
        name = name or (questions.stem if questions.stem != "questions" else questions.resolve().parent.name)
        key = hashlib.sha256(json.dumps(sorted(str(p.resolve()) for p in corpus)).encode()).hexdigest()[:12]
        assistant = Assistant(settings.model_copy(update={"data_dir": settings.data_dir / "calibration" / key}))
        report = assistant.ingest(corpus, progress=args.progress)
        print(f"[{name}] {report.summary()}", file=sys.stderr)
        found = read_questions(questions, name)
        gather(assistant, found, progress=args.progress and sys.stderr.isatty())
        cases += found
    limits = _limits(args.max_false_abstention, {c.set for c in cases})
    report = cross_validate(cases, limits)
    table, png = write_tradeoff(report, args.out)
    print(table.read_text(encoding="utf-8"))
    for name, figures in report.per_set.items():
        print(f"{name} (articles unseen by the fit, threshold {report.threshold:.2f}): {figures}")
    described = ", ".join(f"{n}: {sum(c.set == n for c in cases)} questions" for n in sorted({c.set for c in cases}))
    model = fit(cases, report.threshold, SPAN_THRESHOLD, fitted_on=described)
    target = args.write or settings.data_dir / "answer-model.json"
    model.save(target)
    print(f"wrote {target}, {table} and {png}; use the model with --answer-model {target}")
    return 0


SPAN_THRESHOLD = 0.0  # a short answer is always offered: a missing one scores 0, the evidence is beside it


def _limits(specs: list[str], names: set[str]) -> dict[str, float]:
    limits: dict[str, float] = {}
    for spec in specs:
        name, _, value = spec.rpartition("=")
        try:
            share = float(value)
        except ValueError:
            raise InvalidInput(f"--max-false-abstention {spec!r}: expected a share such as 0.05 or SET=0.1") from None
        for target in [name] if name else names:
            limits[target] = share
    return limits
