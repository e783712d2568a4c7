"""The benchmark runs end to end on a tiny corpus and writes every figure (timings are never asserted)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from corpus import generate, read_facts

from bench import COLUMNS, SIDE_COLUMNS

FIGURES = [key for key, _, _ in COLUMNS] + ["fresh_accuracy", "ingest_cpu_s", "bm25_matrix_mb", "cold_start_correct"]


def test_the_corpus_plants_one_checkable_fact_per_article(tmp_path):
    facts = generate(tmp_path / "corpus", 20)
    assert facts == read_facts(tmp_path / "corpus")
    assert len({f.question for f in facts}) == 20 and len({f.source for f in facts}) == 20
    for fact in facts:
        text = (tmp_path / "corpus" / fact.source).read_text(encoding="utf-8")
        assert fact.answer in text
        others = [p for p in (tmp_path / "corpus").glob("*.txt") if p.name != fact.source]
        assert fact.town in fact.question and fact.town in text
        assert not any(fact.town in p.read_text(encoding="utf-8") for p in others)


@pytest.mark.slow
def test_the_benchmark_reports_every_figure(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    command = [sys.executable, str(REPO / "bench" / "bench.py"), "--n", "5", "--questions", "5"]
    done = subprocess.run(
        [*command, "--ceiling-texts", "40", "--out", str(out), "--work", str(work)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| N |" in done.stdout and "ceiling/s" in done.stdout
    (result,) = json.loads((out / "latest.json").read_text())["results"]
    assert set(FIGURES) <= set(result)
    assert result["n"] == 5 and result["files"] == 5 and result["questions"] == 5
    assert result["reingest_embedded"] == 0  # an unchanged corpus embeds nothing
    assert result["add_files"] == 5 and result["add_texts"] > 0  # a copy of each article, every line new
    assert result["removed_chunks"] > 0  # and deleting them takes their chunks out again
    assert result["accuracy"] == result["fresh_accuracy"] == 1.0  # five unique facts, each found
    assert result["cold_start_correct"]  # and in a new process too


@pytest.mark.slow
def test_the_side_by_side_alternates_both_pipelines_on_one_corpus_and_reports_ratios(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    command = [sys.executable, str(REPO / "bench" / "bench.py"), "--side-by-side", "--n", "3", "--runs", "2"]
    done = subprocess.run(
        [*command, "--out", str(out), "--work", str(work)], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rag ÷ LC" in done.stdout and "% ceil" in done.stdout
    (result,) = json.loads((out / "side-by-side.json").read_text())
    assert set(key for key, _, _ in SIDE_COLUMNS) <= set(result)
    assert [len(result["timings"][p]) for p in ("langchain", "rag", "ceiling")] == [2, 2, 2]
    runs = zip(result["timings"]["rag"], result["timings"]["langchain"], strict=True)
    assert result["ratio"] == statistics.median(r["s"] / t["s"] for r, t in runs)  # pairs of neighbouring runs
    alone = zip(result["timings"]["ceiling"], result["timings"]["langchain"], strict=True)
    assert result["ceiling_ratio"] == statistics.median(c["s"] / t["s"] for c, t in alone)  # the model alone
    assert result["rag_texts"] > 0 and result["langchain_texts"] > 0  # each indexed the corpus
    assert result["timings"]["ceiling"][0]["texts"] == result["rag_texts"]  # the ceiling embeds what rag did
    assert all(r["ceiling_after_s"] > 0 for r in result["timings"]["rag"])


def test_the_ingest_profile_splits_the_whole_ingest_into_its_stages(tmp_path, monkeypatch):
    from profile_ingest import STAGES, profile, table

    from tests.conftest import FAKE_MODEL

    monkeypatch.setenv("RAG_EMBEDDING_MODEL", FAKE_MODEL)  # the stages are the point here, not the model
    generate(tmp_path / "corpus", 6)
    result = profile(tmp_path / "corpus", tmp_path / "data")
    assert result["articles"] == 6 and result["sentences"] > result["chunks"] > 0
    stages = result["stages"]
    assert set(STAGES) < set(stages) and "other" in stages
    assert all(seconds >= 0 for seconds in stages.values())
    assert sum(stages.values()) == pytest.approx(result["ingest_s"], rel=0.05)  # nothing counted twice
    assert stages["Chroma writes and record manager (LangChain index())"] > 0
    assert "**cold ingest**" in table(result)


def test_the_floor_times_the_parts_every_ingest_needs_and_puts_everything_back(tmp_path, monkeypatch):
    import chromadb.api.models.Collection as chroma_collection
    from profile_ingest import floor, table

    import rag.chunking
    import rag.sentences
    from tests.conftest import FAKE_MODEL

    monkeypatch.setenv("RAG_EMBEDDING_MODEL", FAKE_MODEL)
    before = (chroma_collection.Collection.upsert, rag.sentences.syntok_spans, rag.chunking.encoding)
    generate(tmp_path / "corpus", 6)
    bound = floor(tmp_path / "corpus", tmp_path / "data")
    assert set(bound["parts"]) == {
        "model", "Chroma writes", "sentence splitting (syntok)", "loading the tokenizer's encoding"
    }  # fmt: skip
    assert all(seconds > 0 for seconds in bound["parts"].values())  # each ran in the ingest
    assert sum(bound["parts"].values()) <= bound["ingest_s"]  # parts of it, none counted twice
    assert bound["floor"] == pytest.approx(bound["parts"]["model"] / sum(bound["parts"].values()))
    assert (chroma_collection.Collection.upsert, rag.sentences.syntok_spans, rag.chunking.encoding) == before
    page = table({"articles": 6, "chunks": 1, "sentences": 2, "model_texts": 3, "model_load_s": 0.0,
                  "ingest_s": 1.0, "ingest_cpu_s": 1.0, "stages": {"other": 1.0}, "floor": bound})  # fmt: skip
    assert f"**{bound['floor']:.0%}**" in page
