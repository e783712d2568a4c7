"""The one error table: each error type means one HTTP status and one CLI exit code, on every route.

The statuses are those the README documents: 400 bad input, 404 not found, 409 nothing indexed,
413 too large, 503 storage fault; every error exits the CLI with 2 ("nothing done").
"""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from rag.articles import NotIndexed, UploadTooLarge
from rag.cli import main
from rag.errors import (
    EmptyIndex,
    InvalidInput,
    InvalidQuestion,
    LockTimeout,
    NotFound,
    RagError,
    StorageError,
    TooLarge,
    exit_code,
    http_status,
)
from rag.safejson import InvalidJSON
from rag.store import StoreUnavailable
from ui import errors
from ui.openai_api import BadChat, UnknownModel

DOCUMENTED = [  # (an error as the code raises it, its HTTP status, its exit code)
    (InvalidQuestion("the question is empty; type a question about the articles"), 400, 2),
    (InvalidInput("notes.pdf: not a .txt or .md file"), 400, 2),
    (InvalidJSON("malformed JSON: nested more than 32 levels deep"), 400, 2),
    (RagError("invalid setting: top_k: Input should be a valid integer"), 400, 2),
    (BadChat("the last message must be the user's question", "messages"), 400, 2),
    (NotFound("x.txt: not an indexed article"), 404, 2),
    (NotIndexed("x.txt: not an indexed article; nothing was removed"), 404, 2),
    (UnknownModel("unknown model 'gpt-9'; this server has: news-qa", "model"), 404, 2),
    (EmptyIndex("nothing is indexed yet; run `rag ingest` (defaults to seeds/) first"), 409, 2),
    (TooLarge("request body is larger than 256000 bytes"), 413, 2),
    (UploadTooLarge("the upload is 60000000 bytes; the limit is 50000000 (max_upload_bytes)"), 413, 2),
    (StorageError("no space left on the device holding data/"), 503, 2),
    (StoreUnavailable("lost the Chroma server at http://127.0.0.1:8000"), 503, 2),
    (LockTimeout("the index in data/ stayed locked for 30 s by process 4242"), 503, 2),
]
NAMES = [type(problem).__name__ for problem, _, _ in DOCUMENTED]
REFUSED = errors.Refused("notes.pdf: not a .txt or .md file", added=[], errors=["notes.pdf: not a .txt or .md file"])


@pytest.mark.parametrize(("problem", "status", "code"), DOCUMENTED, ids=NAMES)
def test_each_error_type_has_one_status_and_one_exit_code(problem, status, code):
    assert (http_status(problem), exit_code(problem)) == (status, code)


@pytest.fixture(scope="module")
def client() -> TestClient:
    """The server's exception handlers on an app whose routes raise each documented error by name."""
    app = FastAPI()
    errors.install(app)
    by_name = {type(problem).__name__: problem for problem, _, _ in [*DOCUMENTED, (REFUSED, 400, 2)]}
    for prefix in ("/api", "/v1"):
        router = APIRouter(prefix=prefix)

        @router.get("/raise/{name}")
        async def raise_it(name: str):
            if name == "bug":
                raise KeyError("a bug of ours")
            raise by_name[name]

        app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("problem", "status", "code"), DOCUMENTED, ids=NAMES)
def test_the_json_api_answers_the_table_s_status_with_the_message(client, problem, status, code):
    response = client.get(f"/api/raise/{type(problem).__name__}")
    assert response.status_code == status and response.json() == {"error": str(problem)}


@pytest.mark.parametrize(("problem", "status", "code"), DOCUMENTED, ids=NAMES)
def test_the_openai_routes_answer_the_same_status_in_openai_s_shape(client, problem, status, code):
    response = client.get(f"/v1/raise/{type(problem).__name__}")
    error = response.json()["error"]
    assert response.status_code == status and error["message"] == str(problem)
    assert error["type"] == ("server_error" if status >= 500 else "invalid_request_error")
    assert error["param"] == getattr(problem, "param", None) and error["code"] == getattr(problem, "code", None)


def test_a_bug_is_a_500_naming_only_its_type(client):
    for prefix, read in (("/api", lambda body: body["error"]), ("/v1", lambda body: body["error"]["message"])):
        response = client.get(f"{prefix}/raise/bug")
        assert response.status_code == 500 and read(response.json()) == "internal error: KeyError"


def test_an_upload_refusal_keeps_its_details_beside_the_message(client):
    response = client.get("/api/raise/Refused")
    assert response.status_code == 400
    assert response.json() == {"error": str(REFUSED), "added": [], "errors": ["notes.pdf: not a .txt or .md file"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "the question is empty"),  # InvalidQuestion
        (["ask", "--top-k", "-3", "Why?"], "invalid setting"),  # RagError
        (["articles", "remove", "no-such-file.txt"], "not an indexed article"),  # NotIndexed
        pytest.param(  # StoreUnavailable: the store loads the embedding model before it dials the server
            ["ask", "--chroma-url", "nonsense", "Why?"], "is not a server address", marks=pytest.mark.slow
        ),
    ],
)
def test_the_cli_exits_with_the_table_s_code_and_prints_the_message(tmp_path, capsys, args, message):
    code = main([*args, "--data-dir", str(tmp_path / "data")])
    stderr = capsys.readouterr().err
    assert code == 2 and stderr.startswith("error: ") and message in stderr and "Traceback" not in stderr
