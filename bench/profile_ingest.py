"""Where a cold ingest's time goes: one ``Assistant.ingest`` under cProfile, split into its stages.

    .venv/bin/python bench/profile_ingest.py --n 300                  # 300 generated articles
    .venv/bin/python bench/profile_ingest.py --corpus FOLDER          # any folder of articles
    .venv/bin/python bench/profile_ingest.py --n 300 --figures docs/figures

The model is loaded (and run once) before the profile starts, so its load time is reported apart.
Each stage is the cumulative time of the functions that do it; stages do not nest, and "other" is
what is left of the whole ingest (locks, the sentence matrix, progress, Python around the stages).
cProfile adds a little overhead to Python-heavy stages (chunking, records) and almost none to the
model, which runs in native code; the shares are the point, not the absolute seconds. Answering
parses sentences with spaCy at question time only, so no NER runs here.

After the profile, a second cold ingest in a new process (into a data folder of its own, without
cProfile) times the parts every ingest needs whatever else it does: the model, Chroma's writes, the
sentence splitter and loading the tokenizer's encoding. ``floor`` is the model's share of the time
if nothing but those ran: the most "% of the model's ceiling" an ingest built from these parts can
reach.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# stage -> the functions whose cumulative time is that stage: (file suffix or "~" for built-ins, name part)
STAGES = {
    "model inference": [
        ("rag/embeddings.py", "_run"),
        ("sentence_transformers/sentence_transformer/model.py", "encode"),
    ],
    "model tokenisation": [("~", "encode_batch")],
    "reading files, metadata, sentence splitting, token chunks": [("rag/ingest.py", "_batches")],
    "sentence documents": [("rag/chunking.py", "sentence_documents")],
    "change and duplicate checks (record look-ups)": [
        ("rag/ingest.py", "_changed"),
        ("rag/ingest.py", "_first_copies"),
    ],
    "Chroma writes and record manager (LangChain index())": [("rag/store/records.py", "sync")],
    "BM25 build and save": [("rag/lexical.py", "__init__"), ("rag/lexical.py", "save")],
}
PADDING = "embedding, around the model (length sorting, padding, pooling)"


def profile(corpus: Path, data_dir: Path) -> dict:
    """Ingest ``corpus`` cold into ``data_dir`` under cProfile; seconds per stage."""
    from rag import Assistant, Settings
    from rag.embeddings import warm_up

    loading = time.perf_counter()
    assistant = Assistant(Settings(data_dir=data_dir, corpus=[corpus]))
    warm_up(assistant.store.embeddings)  # the model a large ingest uses, loaded first
    load_s = time.perf_counter() - loading
    profiler = cProfile.Profile()
    began, cpu = time.perf_counter(), time.process_time()
    profiler.enable()
    report = assistant.ingest(progress=False)
    profiler.disable()
    total_s, cpu_s = time.perf_counter() - began, time.process_time() - cpu
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (calls, primitive calls, tottime, cumtime, callers)
    stages = {name: _cumulative(stats, parts) for name, parts in STAGES.items()}
    embedding = _cumulative(stats, [("rag/ingest.py", "_embed")])
    model = stages["model inference"] + stages["model tokenisation"]
    stages[PADDING] = max(embedding - model, 0.0)
    stages["other"] = max(total_s - sum(stages.values()), 0.0)
    return {
        "articles": report.files,
        "chunks": report.chunks,
        "sentences": report.sentences,
        "model_texts": report.model_texts,
        "model_load_s": load_s,
        "ingest_s": total_s,
        "ingest_cpu_s": cpu_s,
        "stages": stages,
    }


def floor(corpus: Path, data_dir: Path) -> dict:
    """Ingest ``corpus`` cold into ``data_dir`` (no profiler), timing the parts no ingest can skip."""
    import chromadb.api.models.Collection as chroma_collection

    import rag.chunking
    import rag.sentences
    from rag import Assistant, Settings
    from rag.embeddings import warm_up

    assistant = Assistant(Settings(data_dir=data_dir, corpus=[corpus]))
    model = assistant.store.embeddings
    warm_up(model)
    spent: collections.Counter[str] = collections.Counter()
    parts = [
        (model, "embed_documents", "model"),
        (chroma_collection.Collection, "upsert", "Chroma writes"),
        (chroma_collection.Collection, "add", "Chroma writes"),
        (rag.sentences, "syntok_spans", "sentence splitting (syntok)"),
        (rag.chunking, "encoding", "loading the tokenizer's encoding"),
    ]
    with contextlib.ExitStack() as patches:
        for owner, name, label in parts:
            patches.enter_context(_timed(owner, name, label, spent))
        began = time.perf_counter()
        assistant.ingest(progress=False)
        total_s = time.perf_counter() - began
    return {"ingest_s": total_s, "parts": dict(spent), "floor": spent["model"] / sum(spent.values())}


@contextlib.contextmanager
def _timed(owner, name: str, label: str, spent: collections.Counter):
    """Add the wall time of every call of ``owner.name`` to ``spent[label]`` while inside."""
    original, own = getattr(owner, name), name in vars(owner)  # an instance's method is its class's

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - began

    setattr(owner, name, timed)
    try:
        yield
    finally:
        if own:
            setattr(owner, name, original)
        else:
            delattr(owner, name)


def _cumulative(stats: dict, parts: list[tuple[str, str]]) -> float:
    return sum(
        row[3]
        for (file, _, name), row in stats.items()
        for suffix, part in parts
        if (file == suffix or file.endswith(suffix)) and part in name
    )


def table(result: dict) -> str:
    total = result["ingest_s"]
    lines = ["| stage | seconds | share |", "|---|---:|---:|"]
    for name, seconds in sorted(result["stages"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {seconds:.1f} | {seconds / total:.0%} |")
    lines.append(f"| **cold ingest** | **{total:.1f}** | 100% |")
    bound = result.get("floor")
    if bound:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in bound["parts"].items())
        lines.append(
            f"\nThe parts every ingest needs, timed in a cold ingest of their own ({bound['ingest_s']:.1f} s, "
            f"no profiler): {parts}. With nothing else running the model would be "
            f"**{bound['floor']:.0%}** of the time: the most of its ceiling this design can reach."
        )
    return (
        f"{result['articles']} articles, {result['chunks']} chunks, {result['sentences']} sentences; "
        f"{result['model_texts']} texts through the model; CPU {result['ingest_cpu_s']:.1f} s; "
        f"model load (before, not in the table) {result['model_load_s']:.1f} s.\n\n" + "\n".join(lines)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="generated articles (default: 300)")
    parser.add_argument("--corpus", type=Path, help="profile this folder of articles instead")
    parser.add_argument("--figures", type=Path, metavar="DIR", help="also write the table there (docs/figures)")
    parser.add_argument("--floor", nargs=3, type=Path, metavar=("CORPUS", "DATA", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        corpus, data_dir, result_file = args.floor
        result_file.write_text(json.dumps(floor(corpus, data_dir)))
        return
    with tempfile.TemporaryDirectory(prefix="rag-profile-") as work:
        corpus = args.corpus
        if corpus is None:
            from corpus import generate

            corpus = Path(work) / "corpus"
            generate(corpus, args.n)
        result = profile(corpus, Path(work) / "data")
        floor_file = Path(work) / "floor.json"  # a process of its own: cold, like the profiled ingest
        command = [sys.executable, __file__, "--floor", str(corpus), str(Path(work) / "data-floor"), str(floor_file)]
        subprocess.run(command, check=True)
        result["floor"] = json.loads(floor_file.read_text())
    print(table(result))
    if args.figures:
        from rag.evaluation.report import write_figure

        title = "Where a cold ingest's time goes"
        for path in write_figure(args.figures, "bench-profile", title, table(result), result):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
