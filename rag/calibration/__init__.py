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

from rag.calibration.command import run
from rag.calibration.crossval import Outcome, Report, cross_validate, outcome, summarise, write_tradeoff
from rag.calibration.fitting import fit, fit_choice
from rag.calibration.questions import Labelled, gather, read_questions

__all__ = [
    "Labelled",
    "Outcome",
    "Report",
    "cross_validate",
    "fit",
    "fit_choice",
    "gather",
    "outcome",
    "read_questions",
    "run",
    "summarise",
    "write_tradeoff",
]
