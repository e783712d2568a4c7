"""Ask every case of the evaluation set through the public ``Assistant`` API and score the answers.

Each corpus gets its own index under ``data_dir/eval/<key>``, apart from the user's own index, so
figures never depend on what that holds. The key is the corpus's resolved paths and the settings
that shape an index; configurations equal on those share it, and a later run brings it up to date
incrementally (only changed files are embedded again), which makes a re-run of a large benchmark
cost its questions alone.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document
from tqdm import tqdm

from rag.assistant import Assistant
from rag.errors import RagError
from rag.evaluation.dataset import Case
from rag.evaluation.metrics import Outcome, per_kind, score, summarize
from rag.settings import Settings

# Settings that change what is indexed; configurations equal on these share one index.
INDEX_FIELDS = (
    "embedding_model",
    "embedding_backend",
    "tokenizer",
    "chunk_tokens",
    "chunk_overlap_tokens",
    "chunk_vectors",
    "collection",
)


@dataclass
class Run:
    """The result of one configuration on the evaluation set."""

    label: str
    settings: dict
    outcomes: list[Outcome]
    metrics: dict = field(init=False)
    kinds: dict = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = summarize(self.outcomes)
        self.kinds = per_kind(self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "settings": self.settings,
            "metrics": self.metrics,
            "per_kind": self.kinds,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


class ScoringAssistant(Assistant):
    """An ``Assistant`` that keeps the passages its last question ranked.

    Scoring needs the ranked sources (hit@k, MRR) besides the answer; reading them from the
    ``ask`` itself, rather than a second ``search``, halves the retrieval work of a run and scores
    exactly the ranking the answer came from.
    """

    last_ranked: list[Document] | None = None

    def rank(self, query, filters=None):
        documents, scored = super().rank(query, filters)
        self.last_ranked = documents
        return documents, scored


def evaluate(assistant: Assistant, cases: list[Case], progress: bool = False, label: str = "") -> list[Outcome]:
    """Ask each case (timing ``ask`` only, once warm) and score it, ranking sources as that ``ask`` ranked them."""
    outcomes: list[Outcome] = []
    passed = 0
    recording = isinstance(assistant, ScoringAssistant)
    if cases:  # untimed: the first question loads models and indexes, which is no question's latency
        assistant.ask(cases[0].question, cases[0].history)
    bar = tqdm(cases, desc=label or "eval", unit="q", disable=not progress, file=sys.stderr, leave=False)
    for case in bar:
        if recording:
            assistant.last_ranked = None
        began = time.perf_counter()
        answer = assistant.ask(case.question, case.history)
        ms = (time.perf_counter() - began) * 1000
        documents = assistant.last_ranked if recording else None
        if documents is None:  # a plain Assistant (or an ask that did not search): rank by a search
            documents = assistant.search(case.question, case.history)
        ranked = list(dict.fromkeys(d.metadata["source"] for d in documents))
        outcomes.append(score(case, answer, ranked, ms))
        passed += outcomes[-1].passed
        bar.set_postfix_str(f"passed {passed}/{len(outcomes)}")
    return outcomes


def run_configs(configs: dict[str, Settings], cases: list[Case], progress: bool = False, log=print) -> list[Run]:
    """Evaluate each labelled configuration on the evaluation index of its corpus (brought up to date once)."""
    runs, synced = [], set()
    for label, settings in configs.items():
        data_dir = index_folder(settings)
        assistant = ScoringAssistant(settings.model_copy(update={"data_dir": data_dir, "chroma_url": None}))
        if data_dir not in synced:
            report = assistant.ingest(progress=False)
            log(f"[{label}] index {data_dir}: {report.summary()}")
            if report.errors:
                raise RagError(f"[{label}] the corpus did not index cleanly: {'; '.join(report.errors)}")
            synced.add(data_dir)
        outcomes = evaluate(assistant, cases, progress=progress, label=label)
        runs.append(Run(label, _described(settings), outcomes))
    return runs


def index_folder(settings: Settings) -> Path:
    """``data_dir/eval/<key>``: one index per corpus and way of indexing, reused by every later run."""
    key = {name: str(getattr(settings, name)) for name in INDEX_FIELDS}
    key["corpus"] = sorted(str(path.resolve()) for path in settings.corpus)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return settings.data_dir / "eval" / digest


def _described(settings: Settings) -> dict:
    """The settings that shape answers, for the report (secrets and server options left out)."""
    skip = {"data_dir", "host", "port", "auth", "insecure", "max_body_bytes"}
    return {
        name: value
        for name, value in settings.model_dump(mode="json").items()
        if name not in skip and not name.endswith(("_key", "_password", "_secret"))
    }
