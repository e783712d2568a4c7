"""The `rag` command: ingest, ask (text and JSON), clear errors with exit code 2, settings flags."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SEEDS, write

RAG = [str(Path(sys.executable).parent / "rag")]


def rag(*args: str, data_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = os.environ | {"RAG_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"} | (env or {})
    return subprocess.run(RAG + list(args), capture_output=True, text=True, env=environment, cwd=REPO, timeout=300)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    result = rag("ingest", str(SEEDS), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("5 files, ")
    return data_dir


@pytest.mark.slow
def test_ask_json_prints_exactly_the_answer_dict(indexed):
    result = rag("ask", "--json", "Who is Norway's chargé d'affaires in Afghanistan?", data_dir=indexed)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "Paul Klouman Bekken" in data["answer"]
    assert data["citations"][0]["source"] == "000_9e119cf1d9bedd41.txt"
    assert data["abstained"] is False


@pytest.mark.slow
def test_ask_with_history_file_and_text_output(indexed, tmp_path):
    history = tmp_path / "history.json"
    history.write_text(json.dumps([["Who is Pakistan's envoy to the UN?", "Pakistan's UN envoy, Munir Akram, ..."]]))
    result = rag("ask", "--history", str(history), "What did he claim about ISIS-K?", data_dir=indexed)
    assert result.returncode == 0, result.stderr
    assert "Sources:" in result.stdout and "002_663675794b460625.txt" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "question is empty"),
        (["ask", "x" * 100_000], "limit is"),
        (["ask", "--history", "/no/such/history.json", "Why?"], "cannot read history"),
    ],
)
def test_bad_questions_exit_2_with_a_message(indexed, args, message):
    result = rag(*args, data_dir=indexed)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_malformed_history_file_exits_2(indexed, tmp_path):
    bad = write(tmp_path, "history.json", '{"not": "a list"}')
    result = rag("ask", "--history", str(bad), "Why?", data_dir=indexed)
    assert result.returncode == 2 and "list of [question, answer] pairs" in result.stderr


@pytest.mark.slow
def test_asking_an_empty_index_exits_2(tmp_path):
    result = rag("ask", "Who is Pakistan's envoy to the UN?", data_dir=tmp_path / "empty")
    assert result.returncode == 2
    assert "nothing is indexed yet" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_ingest_reports_bad_files_and_missing_paths(tmp_path, corpus):
    write(corpus, "good.txt", "Good Article\n\nThe council met on Friday to approve the budget.\n")
    (corpus / "bad.txt").write_bytes(b"\xff\xfe\x00binary")
    result = rag("ingest", str(corpus), str(tmp_path / "missing"), data_dir=tmp_path / "data")
    assert result.returncode == 1  # partial: the good file is in, the problems are listed
    assert "bad.txt" in result.stderr and "missing" in result.stderr
    assert result.stdout.startswith("1 files, ")


@pytest.mark.slow
def test_flags_and_environment_override_settings(tmp_path, corpus):
    write(corpus, "good.txt", "Good Article\n\nThe council met on Friday to approve the budget.\n")
    via_env = rag("ingest", data_dir=tmp_path / "env", env={"RAG_CORPUS": json.dumps([str(corpus)])})
    assert via_env.returncode == 0, via_env.stderr
    via_flag = rag("ingest", "--corpus", str(corpus), "--data-dir", str(tmp_path / "flag"), data_dir=tmp_path / "x")
    assert via_flag.returncode == 0, via_flag.stderr
    assert (tmp_path / "flag" / "chroma").is_dir() and not (tmp_path / "x").exists()


@pytest.mark.slow
def test_invalid_setting_value_is_a_clear_error(tmp_path):
    result = rag("ask", "--top-k", "-1", "Why?", data_dir=tmp_path)
    assert result.returncode == 2 and "top_k" in result.stderr and "Traceback" not in result.stderr
