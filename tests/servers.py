"""Start real `rag serve` processes on 127.0.0.1 for the API and browser tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

RAG = str(Path(sys.executable).parent / "rag")
START_TIMEOUT = 120  # seconds: model load plus Gradio start on a slow machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ingest(data_dir: Path, corpus: Path) -> None:
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    subprocess.run([RAG, "ingest", "--data-dir", str(data_dir), str(corpus)], check=True, env=env, timeout=300)


@contextmanager
def serving(command: list[str], probe: str, log_path: Path, timeout: float = START_TIMEOUT, env: dict | None = None):
    """Run ``command`` until ``probe`` answers 200 (bounded by ``timeout``), yield it, then stop it on exit.

    The process's output goes to ``log_path``; if it exits early, the error carries that log.
    """
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + timeout
            while not _answers(probe):
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited: {log_path.read_text()}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{probe} did not answer within {timeout:g}s")
                time.sleep(0.3)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_server(data_dir: Path, *args: str):
    """Yield the base URL of a `rag serve` on a free loopback port; stop it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [RAG, "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port), *args]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with serving(command, f"{url}/api/health", data_dir.parent / f"server-{port}.log", env=env):
        yield url


def post(url: str, body: bytes | dict, headers: dict | None = None) -> tuple[int, dict]:
    """POST and return (status, JSON body), for error statuses too."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as failed:
        return failed.code, json.loads(failed.read())


def get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read()


@contextmanager
def running_llama_server(model: Path, log_dir: Path):
    """Yield the /v1 base URL of llama-cpp-python's OpenAI-compatible server serving ``model``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    with serving([*command, "--port", str(port)], f"{url}/models", log_dir / f"llama-{port}.log"):
        yield url


def stream_lines(url: str, body: dict) -> list[dict]:
    """POST and read a JSON-lines response to its end."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in response if line.strip()]
