"""Fit the answer model on labelled questions, and report what it does on articles it never saw.

``rag calibrate --questions FILE --corpus DIR`` (repeatable pairs) asks every question once, keeps
the evidence the answerer gathers (``rag.evidence``), then:

1. cross-validates by article (every fold leaves whole articles out; questions with no source are
   spread over the folds), fitting the three logistic regressions of ``rag.answer_model`` on the
   other articles and replaying the answerer on the held-out ones, so every figure it reports
   comes from articles the fit did not see;
2. sweeps the abstention threshold on those held-out predictions and writes the trade-off
   (abstention on unanswerable questions against false abstention) as a table and a PNG;
3. picks the default operating point (the highest threshold whose false abstention stays within
   ``max_false_abstention`` on every set) and fits on everything for the model file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rag.answer import DEPTH, MARGIN, decide, sentence_inputs
from rag.answer_model import AnswerModel, LinearModel
from rag.conversation import Query
from rag.errors import InvalidInput
from rag.evaluation.metrics import best_f1, squad_tokens
from rag.evidence import Evidence, answerable_features
from rag.evidence import gather as evidence_for
from rag.nlp import shared_parser

THRESHOLDS = [round(t, 2) for t in np.arange(0.05, 0.96, 0.05)]
CHOICE_C = 0.1  # the candidate ranking's regularisation (held-out short-answer F1 was best near it)
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
        case.evidence = evidence_for(shared_parser(), Query.build(case.question), scored, DEPTH)
        for item in scored:
            titles.setdefault(item.sentence.source, item.sentence.title)
    for case in cases:  # an article is what its files' titles share (one Wikipedia page, many paragraphs)
        if not case.group.startswith("unsourced-"):
            case.group = f"{case.set}:{titles.get(case.group, case.group)}"


# Labels.


def _holds(text: str, answers: list[str]) -> bool:
    """An answer occurs in ``text`` once both are normalised as SQuAD does (case, punctuation, articles)."""
    folded = " ".join(squad_tokens(text))
    return any(squad_tokens(a) and " ".join(squad_tokens(a)) in folded for a in answers)


# Fitting.


def _fit(rows: list[dict[str, float]], labels: list[int], c: float = 1.0, intercept: bool = True) -> LinearModel:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    if not rows or len(set(labels)) < 2:
        return LinearModel({}, 0.0)
    vectoriser = DictVectorizer()
    x = vectoriser.fit_transform(rows)
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", fit_intercept=intercept)
    model.fit(x, labels)
    coef = dict(zip(vectoriser.get_feature_names_out(), model.coef_[0].tolist(), strict=True))
    return LinearModel(coef, float(model.intercept_[0]) if intercept else 0.0)


def _fit_choice(cases: list[Labelled]) -> LinearModel:
    """A ranking of one sentence's candidates: the best-matching candidate against each one that misses.

    Fitted on differences of features (both orders), so only what tells candidates of the same
    sentence apart carries weight; ``logit`` then orders candidates, it is not a probability.
    """
    rows, labels = [], []
    for case in cases:
        for sentence in _answerable_sentences(case):
            if not _right_sentence(case, sentence):
                continue
            graded = [(best_f1(candidate.text, case.answers), features) for candidate, features in sentence.spans]
            top_f1, top = max(graded, key=lambda pair: pair[0], default=(0.0, {}))
            if top_f1 < 0.5:
                continue
            for f1, features in graded:
                if f1 < 0.5:
                    difference = {k: top.get(k, 0.0) - features.get(k, 0.0) for k in top.keys() | features.keys()}
                    rows += [difference, {k: -v for k, v in difference.items()}]
                    labels += [1, 0]
    return _fit(rows, labels, c=CHOICE_C, intercept=False)


def fit(cases: list[Labelled], threshold: float = 0.5, span_threshold: float = 0.0, fitted_on: str = "") -> AnswerModel:
    """The three models, each fitted on the rows of ``cases`` that teach it."""
    span_rows, span_labels = [], []
    for case in cases:
        for sentence in _answerable_sentences(case):
            if sentence.scored.sentence.source in case.sources:
                for candidate, features in sentence.spans:
                    span_rows.append(features)
                    span_labels.append(int(best_f1(candidate.text, case.answers) >= 0.5))
    span = _fit(span_rows, span_labels)
    sentence_rows, sentence_labels = [], []
    for case in cases:
        if sentences := _answerable_sentences(case):
            sentence_rows += sentence_inputs(case.evidence, span)
            sentence_labels += [int(_right_sentence(case, sentence)) for sentence in sentences]
    sentence_model = _fit(sentence_rows, sentence_labels)
    partial = AnswerModel(span, sentence_model, LinearModel({}, 0.0), 0.0, span_threshold)
    answer_rows, answer_labels = [], []
    for case in cases:
        if case.evidence and case.evidence.sentences:
            ranked = decide(case.evidence, partial).ranked
            answer_rows.append(answerable_features(case.evidence.question, ranked))
            answer_labels.append(int(case.answerable))
    answerable = _fit(answer_rows, answer_labels, c=0.5)
    return AnswerModel(span, sentence_model, answerable, threshold, span_threshold, fitted_on, _fit_choice(cases))


def _answerable_sentences(case: Labelled):
    return case.evidence.sentences if case.answerable and case.evidence else []


def _right_sentence(case: Labelled, sentence) -> bool:
    item = sentence.scored.sentence
    return item.source in case.sources and _holds(item.in_context, case.answers)


# Replaying the answerer on held-out articles.


def outcome(case: Labelled, model: AnswerModel) -> Outcome:
    decision = decide(case.evidence, model) if case.evidence else None
    probability = decision.answerable if decision else 0.0
    answered = bool(decision and decision.chosen)
    if not answered or not case.answerable:
        return Outcome(answered, not answered and not case.answerable, 0.0, case.answerable, probability)
    best_p = decision.ranked[0][1]
    chosen = [s.scored.sentence for s, p, _ in decision.ranked if p >= best_p - MARGIN and (p >= 0.5 or p == best_p)]
    text = " ".join(s.text for s in chosen) + (" " + decision.short.text if decision.short else "")
    cited = {s.source for s in chosen}
    correct = _holds(text, case.answers) and bool(cited & set(case.sources))
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


# The command.


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
