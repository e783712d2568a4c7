"""Regression evaluation (``rag eval``): known questions, metrics per kind, reports and a baseline gate."""

from rag.evaluation.dataset import Case, load_cases
from rag.evaluation.gate import read_baseline, regressions, write_baseline
from rag.evaluation.metrics import METRICS, Outcome
from rag.evaluation.runner import Run, evaluate, run_configs

__all__ = [
    "METRICS",
    "Case",
    "Outcome",
    "Run",
    "evaluate",
    "load_cases",
    "read_baseline",
    "regressions",
    "run_configs",
    "write_baseline",
]
