"""The regression gate: compare a run's metrics with the committed baseline (``eval/baseline.json``).

Quality metrics may move against their direction by at most ``QUALITY_TOLERANCE`` (absolute): on
this set one question is worth about 0.015, so a single flip on a noisy machine passes but two do
not. Latency is only gated against gross slow-downs (``LATENCY_FACTOR`` times the baseline),
because machines differ; the benchmark, not the gate, tracks speed.
"""

from __future__ import annotations

import json
from pathlib import Path

from rag.errors import InvalidInput
from rag.evaluation.metrics import METRICS, QUALITY

QUALITY_TOLERANCE = 0.02
LATENCY_FACTOR = 5.0


def regressions(metrics: dict, baseline: dict) -> list[str]:
    """One line per metric that is worse than the baseline allows, naming it; empty when all pass."""
    tolerance = baseline.get("tolerance", {})
    quality = float(tolerance.get("quality", QUALITY_TOLERANCE))
    factor = float(tolerance.get("latency_factor", LATENCY_FACTOR))
    problems = []
    for name, reference in baseline.get("metrics", {}).items():
        if name not in METRICS:
            continue
        if name not in metrics:
            problems.append(f"{name}: not measured (baseline {reference})")
            continue
        value = metrics[name]
        if name in QUALITY:
            higher_is_better = METRICS[name][1]
            worse = value < reference - quality if higher_is_better else value > reference + quality
            if worse:
                problems.append(f"{name}: {value:.4f} vs baseline {reference:.4f} (tolerance {quality})")
        elif value > reference * factor:
            problems.append(f"{name}: {value:.0f} ms vs baseline {reference:.0f} ms (allowed x{factor:g})")
    return problems


def read_baseline(path: Path) -> dict:
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no baseline yet; create it with `rag eval --update-baseline`") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the baseline ({exc})") from exc
    if not isinstance(baseline, dict) or not isinstance(baseline.get("metrics"), dict):
        raise InvalidInput(f"{path}: a baseline is a JSON object with a `metrics` object")
    return baseline


def write_baseline(path: Path, metrics: dict, kinds: dict) -> None:
    """Store the figures as the new reference; the diff is reviewed like code."""
    baseline = {
        "tolerance": {"quality": QUALITY_TOLERANCE, "latency_factor": LATENCY_FACTOR},
        "metrics": {name: metrics[name] for name in METRICS if name in metrics},
        "per_kind": {kind: {k: v for k, v in figures.items() if k in METRICS} for kind, figures in kinds.items()},
    }
    path.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
