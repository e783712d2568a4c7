"""``rag eval``: run an evaluation set, write the reports, and gate on the baseline (or compare settings).

Each set has a name (``--set-name``; by default ``seeds`` for ``eval/questions.jsonl``, else the
question file's name, or its folder's when the file is called ``questions``): its reports go to
``artifacts/eval/<name>/`` and it gates on ``eval/baseline-<name>.json`` (the seeds set on
``eval/baseline.json``), so runs of different sets never overwrite each other's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from pydantic import ValidationError

from rag.errors import InvalidInput
from rag.evaluation.dataset import load_cases
from rag.evaluation.gate import read_baseline, regressions, write_baseline
from rag.evaluation.report import console_table, figure_tables, kind_table, write_figure, write_reports
from rag.evaluation.runner import run_configs
from rag.settings import Settings
from rag.validation import problems

EXIT_PASS, EXIT_REGRESSION = 0, 1
MAX_SHOWN = 30  # failures printed to the terminal; the report lists them all


def eval_folder() -> Path:
    """``eval/`` of the current folder, else of the checkout this package runs from."""
    here = Path("eval")
    return here if (here / "questions.jsonl").exists() else Path(__file__).resolve().parents[2] / "eval"


def set_name(questions: Path) -> str:
    """What a question file's reports and baseline are named after."""
    if questions.resolve() == (eval_folder() / "questions.jsonl").resolve():
        return "seeds"
    return questions.resolve().parent.name if questions.stem == "questions" else questions.stem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    folder = eval_folder()
    parser.add_argument(
        "--questions", type=Path, default=folder / "questions.jsonl", help="the evaluation set (JSONL; any fields)"
    )
    parser.add_argument(
        "--set-name", help="names the reports' folder and the baseline (default: from the question file)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="reference figures to gate on (default: eval/baseline.json for seeds, else eval/baseline-<set>.json)",
    )
    parser.add_argument("--out", type=Path, help="folder for the JSON, Markdown, PNG (default: artifacts/eval/<set>)")
    parser.add_argument(
        "--figures",
        type=Path,
        metavar="DIR",
        help="also write eval-<set>.md/.json/.png there for the docs (e.g. docs/figures; only when asked)",
    )
    parser.add_argument("--update-baseline", action="store_true", help="store this run's figures as the baseline")
    parser.add_argument("--report-only", action="store_true", help="report without gating on the baseline")
    parser.add_argument(
        "--compare",
        nargs="+",
        metavar="CONFIG",
        help="evaluate several configurations side by side; each is `default`, `name=value,...` settings "
        "overrides (e.g. top_k=3), or a .json/.env file of them",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list every question, not just failures")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def run(args: argparse.Namespace, settings: Settings) -> int:
    cases = load_cases(args.questions)
    name = args.set_name or set_name(args.questions)
    baseline_file = "baseline.json" if name == "seeds" else f"baseline-{name}.json"
    args.baseline = args.baseline or eval_folder() / baseline_file
    args.out = args.out or Path("artifacts/eval") / name
    configs = {spec: _configured(settings, spec) for spec in args.compare} if args.compare else {"current": settings}
    gating = not (args.compare or args.report_only or args.update_baseline)
    baseline = _optional_baseline(args.baseline, required=gating)
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731 - keeps stdout for the tables
    log(f"eval set {name!r}: {len(cases)} questions from {args.questions}")
    runs = run_configs(configs, cases, progress=args.progress and sys.stderr.isatty(), log=log)

    for run_ in runs:
        shown = run_.outcomes if args.verbose else run_.failures
        if shown:
            print(f"\n{run_.label}: {'every question' if args.verbose else f'{len(shown)} failures'}")
        for o in shown if args.verbose else shown[:MAX_SHOWN]:
            print(f"  {'ok  ' if o.passed else 'MISS'} {o.id} [{o.kind}] {o.question}\n       -> {o.answer[:160]}")
        if len(shown) > MAX_SHOWN and not args.verbose:
            print(f"  ... and {len(shown) - MAX_SHOWN} more: every failure is in {args.out / 'report.md'}")
        print(f"\n{run_.label}: per kind\n{kind_table(run_)}")
    print("\n" + console_table(runs, baseline))

    problems = regressions(runs[0].metrics, baseline) if gating and baseline else []
    for path in write_reports(runs, baseline, problems, args.out):
        print(f"wrote {path}")
    if args.figures:
        title = f"rag eval: {name} ({len(cases)} questions from {args.questions.name})"
        data = {"set": name, "runs": [{k: v for k, v in r.to_dict().items() if k != "outcomes"} for r in runs]}
        for path in write_figure(args.figures, f"eval-{name}", title, figure_tables(runs), data):
            print(f"wrote {path}")
        shutil.copyfile(args.out / "chart.png", args.figures / f"eval-{name}.png")
    if args.update_baseline:
        write_baseline(args.baseline, runs[0].metrics, runs[0].kinds)
        print(f"baseline written to {args.baseline}; review its diff like code")
        return EXIT_PASS
    if not gating:
        return EXIT_PASS
    for line in problems:
        print(f"REGRESSION {line}")
    print("eval: FAIL" if problems else "eval: pass (every metric within tolerance of the baseline)")
    return EXIT_REGRESSION if problems else EXIT_PASS


def _optional_baseline(path: Path, required: bool) -> dict | None:
    if required or path.exists():
        return read_baseline(path)
    return None


def _configured(settings: Settings, spec: str) -> Settings:
    """``default``, ``top_k=3,top_sentences=0``, or a JSON / .env file of overrides, applied to ``settings``."""
    if spec == "default":
        overrides: dict = {}
    elif Path(spec).is_file():
        overrides = _read_overrides(Path(spec))
    else:
        try:
            overrides = dict(pair.split("=", 1) for pair in spec.split(","))
        except ValueError:
            raise InvalidInput(f"--compare {spec!r}: expected `default`, name=value pairs or a file") from None
    overrides = {name.strip().lower().removeprefix("rag_").replace("-", "_"): v for name, v in overrides.items()}
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise InvalidInput(f"--compare {spec!r}: unknown setting(s) {', '.join(unknown)}")
    try:
        return Settings.model_validate(settings.model_dump() | overrides)
    except ValidationError as exc:
        raise InvalidInput(f"--compare {spec!r}: {problems(exc)}") from None


def _read_overrides(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise InvalidInput(f"{path}: expected a JSON object of settings")
        return data
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not all("=" in line for line in lines):
        raise InvalidInput(f"{path}: expected NAME=value lines")
    return dict(line.split("=", 1) for line in lines)
