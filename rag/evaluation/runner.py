"""Ask every case of the evaluation set through the public ``Assistant`` API and score the answers.

Each run indexes the corpus into a fresh temporary folder, so figures never depend on what a
user's own index holds; configurations that index the same way share that folder.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.assistant import Assistant
from rag.errors import RagError
from rag.evaluation.dataset import Case
from rag.evaluation.metrics import Outcome, per_kind, score, summarize
from rag.settings import Settings

# Settings that change what is indexed; configurations equal on these share one index.
INDEX_FIELDS = ("embedding_model", "tokenizer", "chunk_tokens", "chunk_overlap_tokens", "corpus", "collection")


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


def evaluate(assistant: Assistant, cases: list[Case], progress: bool = False, label: str = "") -> list[Outcome]:
    """Ask each case (timing ``ask`` only) and score it; ``search`` supplies the source ranking."""
    outcomes: list[Outcome] = []
    bar = tqdm(cases, desc=label or "eval", unit="q", disable=not progress, file=sys.stderr, leave=False)
    for case in bar:
        began = time.perf_counter()
        answer = assistant.ask(case.question, case.history)
        ms = (time.perf_counter() - began) * 1000
        ranked = list(dict.fromkeys(d.metadata["source"] for d in assistant.search(case.question, case.history)))
        outcomes.append(score(case, answer, ranked, ms))
        passed = sum(o.passed for o in outcomes)
        bar.set_postfix_str(f"passed {passed}/{len(outcomes)}")
    return outcomes


def run_configs(configs: dict[str, Settings], cases: list[Case], progress: bool = False, log=print) -> list[Run]:
    """Evaluate each labelled configuration on a fresh index of its corpus."""
    runs = []
    with _index_folders() as folder_for:
        for label, settings in configs.items():
            data_dir, fresh = folder_for(settings)
            assistant = Assistant(settings.model_copy(update={"data_dir": data_dir}))
            if fresh:
                report = assistant.ingest(progress=False)
                log(f"[{label}] indexed {report.summary()}")
                if report.errors:
                    raise RagError(f"[{label}] the corpus did not index cleanly: {'; '.join(report.errors)}")
            outcomes = evaluate(assistant, cases, progress=progress, label=label)
            runs.append(Run(label, _described(settings), outcomes))
    return runs


@contextmanager
def _index_folders() -> Iterator:
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as root:
        made: set[str] = set()

        def folder_for(settings: Settings) -> tuple[Path, bool]:
            key = json.dumps({name: str(getattr(settings, name)) for name in INDEX_FIELDS}, sort_keys=True)
            name = hashlib.sha256(key.encode()).hexdigest()[:12]
            fresh = name not in made
            made.add(name)
            return Path(root) / name, fresh

        yield folder_for


def _described(settings: Settings) -> dict:
    """The settings that shape answers, for the report (secrets and server options left out)."""
    skip = {"data_dir", "host", "port", "auth", "insecure", "max_body_bytes"}
    return {
        name: value
        for name, value in settings.model_dump(mode="json").items()
        if name not in skip and not name.endswith(("_key", "_password", "_secret"))
    }
