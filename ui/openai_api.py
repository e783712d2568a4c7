"""An OpenAI-compatible chat endpoint, so chat front ends and OpenAI clients can ask the articles.

``POST /v1/chat/completions`` (plain and streamed) and ``GET /v1/models`` in the OpenAI wire format:
the last user message is the question, earlier user/assistant turns the history. The reply's content
is the answer with its ``[n]`` markers and a Sources list; the structured answer (the same object
``POST /api/ask`` returns: citations, ``abstained``, ``short_answer`` ...) travels in the extra field
``news_qa``. A thin caller of ``Assistant.ask`` / ``Assistant.stream``, like the JSON API.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from rag import Answer, Assistant, RagError
from rag.errors import InvalidInput, NotFound
from rag.response import Response
from ui.api import read_json

MODELS = {"extractive": "news-qa", "llm": "news-qa-llm"}  # one model name per answer mode
EXTRA = "news_qa"  # the response field holding the structured answer
SOURCES = "\n\nSources:\n"  # where the answer ends and our own Sources list begins


class BadChat(InvalidInput):
    """A chat request we cannot answer (400); ``param`` names the offending field as OpenAI does.

    Its status comes from the error table like every error's; ``ui.errors`` words it in OpenAI's shape.
    """

    code: str | None = None

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


class UnknownModel(NotFound, BadChat):
    """A model this server does not have (404 ``model_not_found``)."""

    code = "model_not_found"


def conversation(messages: object) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last message, which must be the user's) and the earlier (question, answer) turns.

    System and developer messages are ignored (the assistant answers only from the articles); each
    user message pairs with the assistant message that follows it. Our own Sources list is cut off an
    assistant message, so history holds what was said, not the citations under it.
    """
    if not isinstance(messages, list) or not messages:
        raise BadChat('"messages" must be a non-empty list of {"role", "content"} objects', "messages")
    turns = []
    for number, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise BadChat(f'messages[{number}] must be an object with a "role" and a "content"', "messages")
        turns.append((message["role"], _text(message.get("content"), number)))
    role, question = turns[-1]
    if role != "user":
        raise BadChat(f'the last message must be the user\'s question, not a "{role}" message', "messages")
    history: list[tuple[str, str]] = []
    asked: str | None = None
    for role, text in turns[:-1]:
        if role == "user":
            if asked is not None:
                history.append((asked, ""))
            asked = text
        elif role == "assistant" and asked is not None:
            history.append((asked, text.split(SOURCES, 1)[0]))
            asked = None
    if asked is not None:
        history.append((asked, ""))
    return question, history


def _text(content: object, number: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        texts = [part.get("text") for part in content if part.get("type") == "text"]
        if all(isinstance(text, str) for text in texts):
            return "\n".join(texts)
    raise BadChat(f"messages[{number}].content must be a string or a list of text parts", "messages")


def reply_text(answer: Answer) -> str:
    """What a plain chat front end shows: the answer with its [n] markers, a notice, then the Sources."""
    notice = f"\n\nNote: {answer.notice}" if answer.notice else ""
    return answer.answer + notice + sources_text(answer)


def sources_text(answer: Answer) -> str:
    """The cited passages as a list: marker, title, file and the quote (empty for an abstention)."""
    if not answer.citations:
        return ""
    return SOURCES + "\n".join(f"- [{c.n}] {c.title} ({c.source}): “{c.quote}”" for c in answer.citations)


def router(assistant: Assistant) -> APIRouter:
    v1 = APIRouter(prefix="/v1")
    limit = assistant.settings.max_body_bytes
    mode_of = {MODELS[m]: m for m in assistant.modes}

    @v1.get("/models")
    def models() -> dict:
        """One model per answer mode on this server; the first is the default."""
        listed = [{"id": MODELS[a], "object": "model", "created": 0, "owned_by": "news-qa"} for a in assistant.modes]
        return {"object": "list", "data": listed}

    async def read_chat(request: Request) -> tuple[str, list[tuple[str, str]], str, str, bool]:
        """The checked request: question, history, model name, answer mode and whether to stream."""
        body = await read_json(request, limit)
        if not isinstance(body, dict):
            raise BadChat('the body must be a JSON object: {"model": "news-qa", "messages": [...]}')
        model = body.get("model", MODELS[assistant.modes[0]])
        if not isinstance(model, str):
            raise BadChat('"model" must be a string: news-qa', "model")
        if model not in mode_of:
            names = ", ".join(mode_of)
            raise UnknownModel(f"unknown model {model[:80]!r}; this server has: {names}", "model")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise BadChat('"stream" must be true or false', "stream")
        question, history = conversation(body.get("messages"))
        return question, history, model, mode_of[model], stream

    @v1.post("/chat/completions")
    async def chat_completions(request: Request):
        """An OpenAI chat completion whose content is the cited answer; ``news_qa`` holds its structure."""
        question, history, model, mode, stream = await read_chat(request)
        response = await run_in_threadpool(assistant.stream, question, history, mode)
        await run_in_threadpool(response.begin)  # errors before the first sentence keep their status
        completion = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": model}
        if stream:
            events = _events(completion, response)
            return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        answer = await run_in_threadpool(lambda: response.answer)
        message = {"role": "assistant", "content": reply_text(answer)}
        return completion | {
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            EXTRA: answer.to_dict(),
        }

    return v1


def _events(completion: dict, response: Response) -> Iterator[str]:
    """Server-sent events: the role, each sentence once it is ready, the Sources, ``news_qa``, ``[DONE]``.

    A language model's checked sentences are sent as they come; if the final answer differs from them
    (a fallback to quoted sentences), it follows under its notice. The quoting answerer's sentences
    are sent one by one. A failure mid-stream ends the reply with the error in OpenAI's shape.
    """
    chunk = completion | {"object": "chat.completion.chunk"}

    def event(delta: dict, finish: str | None = None, **extra) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return f"data: {json.dumps(chunk | {'choices': [choice]} | extra, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    sent = ""
    try:
        for sentence in response:
            yield event({"content": (" " if sent else "") + sentence})
            sent += (" " if sent else "") + sentence
        answer = response.answer
        if not sent:
            for sentence in _sentences(answer):
                yield event({"content": (" " if sent else "") + sentence})
                sent += (" " if sent else "") + sentence
            rest = ""
        elif answer.answer.startswith(sent):
            rest = answer.answer[len(sent) :]
        else:  # the streamed sentences were replaced (a fallback): say so, then the final answer
            rest = f"\n\n{answer.answer}"
        notice = f"\n\nNote: {answer.notice}" if answer.notice else ""
        if tail := rest + notice + sources_text(answer):
            yield event({"content": tail})
        yield event({}, "stop", **{EXTRA: answer.to_dict()})
    except RagError as problem:
        body = {"message": str(problem), "type": "invalid_request_error", "param": None, "code": None}
        yield f"data: {json.dumps({'error': body})}\n\n"
    yield "data: [DONE]\n\n"


def _sentences(answer: Answer) -> list[str]:
    """The answer cut after each [n] marker (and its full stop): the short answer, then each quote."""
    return [s.strip() for s in re.findall(r".+?\[\d+\][.;,]?(?=\s|$)|.+$", answer.answer, re.S) if s.strip()]
