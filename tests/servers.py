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
def running_server(data_dir: Path, *args: str):
    """Yield the base URL of a server on a free loopback port; stop it afterwards."""
    port = free_port()
    log = open(data_dir.parent / f"server-{port}.log", "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [RAG, "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ | {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(data_dir.parent / f'server-{port}.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"server did not answer /api/health within {START_TIMEOUT}s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


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
    log = open(log_dir / f"llama-{port}.log", "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama server exited: {(log_dir / f'llama-{port}.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"llama server did not answer /v1/models within {START_TIMEOUT}s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def stream_lines(url: str, body: dict) -> list[dict]:
    """POST and read a JSON-lines response to its end."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in response if line.strip()]
