"""Benchmark: ingest time, question latency and memory, printed as figures (never asserted).

.venv/bin/python bench/bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "Who is Norway's chargé d'affaires in Afghanistan?",
    "Who is Pakistan's envoy to the UN?",
    "How many people need humanitarian assistance in Afghanistan?",
    "What did Sergey Lavrov say about the United States?",
    "Who won the 2022 FIFA World Cup?",
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5, help="times each question is asked")
    args = parser.parse_args()

    began = time.perf_counter()
    from rag import Assistant, Settings

    imported = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as data_dir:
        assistant = Assistant(Settings(data_dir=Path(data_dir)))
        began = time.perf_counter()
        assistant.store.embeddings  # noqa: B018 - load the model on its own clock
        loaded = time.perf_counter() - began
        cold = assistant.ingest([ROOT / "seeds"], progress=False)
        warm = assistant.ingest([ROOT / "seeds"], progress=False)
        first = time.perf_counter()
        assistant.ask(QUESTIONS[0])
        first = time.perf_counter() - first
        latencies = []
        for _ in range(args.repeat):
            for question in QUESTIONS:
                began = time.perf_counter()
                assistant.ask(question)
                latencies.append(time.perf_counter() - began)
    latencies.sort()
    print(f"import rag:            {imported:6.2f} s")
    print(f"load embedding model:  {loaded:6.2f} s")
    print(f"ingest seeds (cold):   {cold.seconds:6.2f} s  ({cold.summary()})")
    print(f"ingest seeds (again):  {warm.seconds:6.2f} s  ({warm.summary()})")
    print(f"first question:        {first * 1000:6.0f} ms")
    print(
        f"question p50 / p95:    {statistics.median(latencies) * 1000:6.0f} / "
        f"{latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms over {len(latencies)} questions"
    )
    print(f"peak memory (RSS):     {rss_mb():6.0f} MB")


if __name__ == "__main__":
    main()
