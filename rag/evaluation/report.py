"""What ``rag eval`` leaves behind: a compact console table, a JSON result, a Markdown report and a chart."""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from rag.evaluation.metrics import INFO, METRICS
from rag.evaluation.runner import Run

CHARTED = (
    "hit_at_1",
    "mrr",
    "accuracy",
    "short_answer_f1",
    "citation_precision",
    "citation_recall",
    "abstain_accuracy",
    "false_abstention",
)
KIND_COLUMNS = (
    "questions",
    "hit_at_1",
    "mrr",
    "accuracy",
    "short_answer_f1",
    "citation_precision",
    "abstain_accuracy",
    "false_abstention",
)
SHORT = dict(
    zip(
        KIND_COLUMNS,
        ("n", "hit@1", "mrr", "accuracy", "short F1", "cite prec", "abstain", "false abs"),
        strict=True,
    )
)


def console_table(runs: list[Run], baseline: dict | None) -> str:
    """Metrics as rows, one column per run (and the baseline), for a terminal."""
    columns = ([("baseline", baseline.get("metrics", {}))] if baseline else []) + [(r.label, r.metrics) for r in runs]
    width = max(12, *(len(label) for label, _ in columns))
    lines = [f"{'metric':<20}" + "".join(f"{label:>{width + 2}}" for label, _ in columns)]
    for name in ("questions", *METRICS, *INFO):
        cells = [_cell(name, figures.get(name)) for _, figures in columns]
        lines.append(f"{name:<20}" + "".join(f"{cell:>{width + 2}}" for cell in cells))
    return "\n".join(lines)


def kind_table(run: Run) -> str:
    """Per-kind figures of one run, for a terminal."""
    lines = [f"{'kind':<14}" + "".join(f"{SHORT[c]:>10}" for c in KIND_COLUMNS)]
    for kind, figures in run.kinds.items():
        lines.append(f"{kind:<14}" + "".join(f"{_cell(c, figures.get(c)):>10}" for c in KIND_COLUMNS))
    return "\n".join(lines)


def write_reports(runs: list[Run], baseline: dict | None, regressions: list[str], folder: Path) -> list[Path]:
    """Write result.json, report.md and chart.png into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "runs": [r.to_dict() for r in runs],
        "baseline": baseline,
        "regressions": regressions,
    }
    paths = [folder / "result.json", folder / "report.md", folder / "chart.png"]
    paths[0].write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(runs, baseline, regressions), encoding="utf-8")
    chart(runs, baseline, paths[2])
    return paths


def markdown(runs: list[Run], baseline: dict | None, regressions: list[str]) -> str:
    columns = ([("baseline", baseline.get("metrics", {}))] if baseline else []) + [(r.label, r.metrics) for r in runs]
    out = ["# Evaluation report", ""]
    if baseline is not None:
        out += ["**Gate: FAIL**" if regressions else "**Gate: pass**", ""]
        out += [f"- regression: {line}" for line in regressions]
        out += [""] if regressions else []
    out += ["| metric | " + " | ".join(label for label, _ in columns) + " | meaning |"]
    out += ["|---" * (len(columns) + 2) + "|"]
    for name in ("questions", *METRICS, *INFO):
        meaning = METRICS[name][0] if name in METRICS else INFO.get(name, "questions asked")
        out.append(f"| {name} | " + " | ".join(_cell(name, f.get(name)) for _, f in columns) + f" | {meaning} |")
    for run in runs:
        out += ["", f"## {run.label}: per kind", ""]
        out += ["| kind | " + " | ".join(KIND_COLUMNS) + " |", "|---" * (len(KIND_COLUMNS) + 1) + "|"]
        for kind, figures in run.kinds.items():
            out.append(f"| {kind} | " + " | ".join(_cell(c, figures.get(c)) for c in KIND_COLUMNS) + " |")
        out += ["", f"## {run.label}: failures ({len(run.failures)})", ""]
        for o in run.failures:
            expected = "an abstention" if not o.answerable else f"{' / '.join(o.answers)} from {', '.join(o.expected)}"
            if o.trapped:
                expected += f" (fell for the trap: {' / '.join(o.traps)})"
            got = o.answer.replace("\n", " ")[:300]
            out.append(
                f"- **{o.id}** ({o.kind}) {o.question}  \n  expected: {expected}  \n  got: {got}  \n"
                f"  cited: {', '.join(o.cited) or '-'}; top source: {o.ranked[0] if o.ranked else '-'}"
            )
    return "\n".join(out) + "\n"


def chart(runs: list[Run], baseline: dict | None, path: Path) -> None:
    """One panel per metric: bars per kind (and overall) for the baseline and each run."""
    import matplotlib

    matplotlib.use("Agg")  # no display here
    import matplotlib.pyplot as plt

    series = ([("baseline", baseline.get("metrics", {}), baseline.get("per_kind", {}))] if baseline else []) + [
        (r.label, r.metrics, r.kinds) for r in runs
    ]
    kinds = list(dict.fromkeys(k for run in runs for k in run.kinds))
    fig, axes = plt.subplots(4, 2, figsize=(14, 14), constrained_layout=True)
    width = 0.8 / len(series)
    for ax, name in zip(axes.flat, CHARTED, strict=True):
        groups = ["overall", *kinds]
        for i, (label, overall, per) in enumerate(series):
            values = [overall.get(name)] + [per.get(k, {}).get(name) for k in kinds]
            xs = [g + i * width for g, v in enumerate(values) if v is not None]
            ys = [v for v in values if v is not None]
            ax.bar(xs, ys, width, label=label, hatch="//" if label == "baseline" else None, alpha=0.85)
        ax.set_title(f"{name}  ({'higher' if METRICS[name][1] else 'lower'} is better)", fontsize=10)
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], groups, rotation=30, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("rag eval: metrics per kind")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def provenance() -> dict:
    """When, where and how a figure was measured: printed above every table in docs/figures/."""
    cpu = platform.processor() or platform.machine()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = None
    program = Path(sys.argv[0])
    program = program.name if program.suffix != ".py" else os.path.relpath(program)  # `rag`, `bench/bench.py`
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "load_average": round(os.getloadavg()[0], 1),
        "commit": commit,
        "command": shlex.join([program, *sys.argv[1:]]),
    }


def write_figure(folder: Path, name: str, title: str, tables: str, data: dict) -> list[Path]:
    """Write ``name.md`` (title, provenance, tables) and ``name.json`` (the figures) into ``folder``.

    Only tools asked to (``--figures``) write here, so a test run never changes the docs; the
    Markdown is what the docs pages include, the JSON what ``scripts/gen_docs.py`` reads.
    """
    folder.mkdir(parents=True, exist_ok=True)
    source = provenance()
    machine = f"{source['cores']} cores ({source['cpu']}), load average {source['load_average']}"
    header = [
        f"**{title}**",
        "",
        f"Measured {source['date']} on {machine}"
        + (f", commit `{source['commit']}`" if source["commit"] else "")
        + f", by `{source['command']}`.",
        "",
    ]
    paths = [folder / f"{name}.md", folder / f"{name}.json"]
    paths[0].write_text("\n".join(header) + "\n" + tables.rstrip() + "\n", encoding="utf-8")
    paths[1].write_text(json.dumps({"provenance": source, **data}, indent=2, ensure_ascii=False) + "\n")
    return paths


def figure_tables(runs: list[Run]) -> str:
    """The metrics of each run and its per-kind table, as Markdown (no failures: those are in report.md)."""
    out = ["| metric | " + " | ".join(r.label for r in runs) + " | meaning |", "|---" * (len(runs) + 2) + "|"]
    for name in ("questions", *METRICS, *INFO):
        if all(r.metrics.get(name) is None for r in runs):
            continue
        meaning = METRICS[name][0] if name in METRICS else INFO.get(name, "questions asked")
        out.append(f"| {name} | " + " | ".join(_cell(name, r.metrics.get(name)) for r in runs) + f" | {meaning} |")
    for run in runs:
        out += ["", f"Per kind ({run.label}):", ""]
        out += ["| kind | " + " | ".join(SHORT[c] for c in KIND_COLUMNS) + " |", "|---" * (len(KIND_COLUMNS) + 1) + "|"]
        for kind, figures in run.kinds.items():
            out.append(f"| {kind} | " + " | ".join(_cell(c, figures.get(c)) for c in KIND_COLUMNS) + " |")
    return "\n".join(out)


def _cell(name: str, value) -> str:
    if value is None:
        return "-"
    if name == "questions":
        return str(int(value))
    if name.startswith("latency"):
        return f"{value:.0f} ms"
    return f"{value:.3f}"
