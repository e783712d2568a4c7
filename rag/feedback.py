"""👍/👎 on answers, kept append-only, and turned into ``rag eval`` questions.

Every verdict is one JSON line of ``data_dir/feedback.jsonl`` with the time and the index
generation it was given against; nothing is ever rewritten. ``rag feedback export`` reads it
back: the last verdict on an answer counts (a 👎 followed by a correction), and

- a 👎 with a correction ("the right answer is …") becomes an answerable case whose accepted
  answer is the correction and whose sources are the articles that contain it; its ``kind`` is
  one the evaluation set already has (``name`` for "who …", ``number`` for "how many …", …,
  ``follow_up`` with history, else ``description``), and its id starts with ``feedback-``;
- a 👎 without a correction on an answer that quoted the articles becomes an unanswerable case
  (the assistant should have said the articles don't say).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from rag.errors import InvalidQuestion
from rag.settings import Settings

VERDICTS = ("up", "down")
MAX_TEXT = 20_000  # characters of a question or answer kept
MAX_CORRECTION = 2_000
MAX_CITATIONS = 50
CITATION_KEYS = ("n", "source", "title", "quote", "start", "end", "date", "outlet", "url")
# The evaluation set's kinds, told from how a question opens; anything else is a `description`.
KIND_CUES = (
    ("name", re.compile(r"^\s*(who|whom|whose)\b", re.IGNORECASE)),
    ("number", re.compile(r"^\s*how (many|much)\b", re.IGNORECASE)),
    ("date", re.compile(r"^\s*when\b|^\s*(on )?what (date|day|year)\b", re.IGNORECASE)),
    ("place", re.compile(r"^\s*where\b", re.IGNORECASE)),
)


def feedback_path(settings: Settings) -> Path:
    return settings.data_dir / "feedback.jsonl"


def record(settings: Settings, data: object) -> dict:
    """Check one verdict (``question``, ``answer``, ``verdict`` and optional ``history``,
    ``citations``, ``correction``), append it to the feedback file, and return the stored entry."""
    if not isinstance(data, dict):
        raise InvalidQuestion('feedback must be a JSON object: {"question", "answer", "verdict": "up"|"down"}')
    question, answer, verdict = data.get("question"), data.get("answer"), data.get("verdict")
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestion('"question" must be the question that was answered')
    if not isinstance(answer, str):
        raise InvalidQuestion('"answer" must be the answer given, as text')
    if verdict not in VERDICTS:
        raise InvalidQuestion('"verdict" must be "up" or "down"')
    if len(question) > MAX_TEXT or len(answer) > MAX_TEXT:
        raise InvalidQuestion(f'"question" and "answer" are at most {MAX_TEXT} characters')
    history = data.get("history") or []
    if not isinstance(history, list) or not all(
        isinstance(p, list | tuple) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in history
    ):
        raise InvalidQuestion('"history" must be a list of [question, answer] pairs of strings')
    correction = data.get("correction")
    if correction is not None and not isinstance(correction, str):
        raise InvalidQuestion('"correction" must be text (the right answer), or left out')
    correction = " ".join((correction or "").split()) or None
    if correction and len(correction) > MAX_CORRECTION:
        raise InvalidQuestion(f'"correction" is at most {MAX_CORRECTION} characters')
    citations = data.get("citations") or []
    if (
        not isinstance(citations, list)
        or len(citations) > MAX_CITATIONS
        or not all(isinstance(c, dict) for c in citations)
    ):
        raise InvalidQuestion(f'"citations" must be a list of at most {MAX_CITATIONS} citation objects')
    entry = {
        "id": uuid.uuid4().hex,
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generation": _generation(settings),
        "question": " ".join(question.split()),
        "answer": answer,
        "verdict": verdict,
        "correction": correction,
        "history": [list(p) for p in history],
        "citations": [
            {k: c[k] for k in CITATION_KEYS if isinstance(c.get(k), str | int | float) and not isinstance(c[k], bool)}
            for c in citations
        ],
    }
    _append(feedback_path(settings), json.dumps(entry, ensure_ascii=False))
    return entry


def _append(path: Path, line: str) -> None:
    """One whole line per verdict, even when several servers and threads write at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.write(line + "\n")
        file.flush()


def _generation(settings: Settings) -> str | None:
    try:
        return (settings.data_dir / "generation").read_text().strip() or None
    except OSError:
        return None


def read(settings: Settings) -> tuple[list[dict], list[str]]:
    """Every stored verdict, oldest first, and a note for each line that cannot be read."""
    path = feedback_path(settings)
    entries, notes = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return [], [f"{path}: no feedback yet"]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            notes.append(f"{path}:{number}: not a JSON line, skipped")
            continue
        if isinstance(entry, dict) and entry.get("verdict") in VERDICTS and isinstance(entry.get("question"), str):
            entries.append(entry)
        else:
            notes.append(f"{path}:{number}: not a feedback entry, skipped")
    return entries, notes


def export(entries: list[dict], sources_with: Callable[[str], list[str]]) -> Iterator[dict | str]:
    """``rag eval`` question records (dicts) from verdicts, and notes (str) for verdicts that make none.

    ``sources_with(text)`` names the indexed articles containing ``text``: where a correction can be found.
    """
    latest: dict[str, dict] = {}
    for entry in entries:  # a later verdict on the same answer replaces an earlier one
        latest[_answer_key(entry)] = entry
    for entry in latest.values():
        if entry["verdict"] != "down":
            continue
        history = [list(p) for p in entry.get("history") or []]
        case = {
            "id": f"feedback-{str(entry.get('id', ''))[:12] or _answer_key(entry)[:12]}",
            "question": entry["question"],
        }
        cited = sorted({c["source"] for c in entry.get("citations") or [] if isinstance(c.get("source"), str)})
        correction = entry.get("correction")
        if correction:
            sources = sources_with(correction) or cited
            if not sources:
                yield f"{case['id']}: the correction {correction[:60]!r} is in no indexed article; skipped"
                continue
            kind = "follow_up" if history else next((k for k, cue in KIND_CUES if cue.search(case["question"])), None)
            yield case | {
                "kind": kind or "description",
                "answers": [correction],
                "sources": sources,
                "history": history,
                "answerable": True,
            }
        elif cited:  # it quoted the articles, and the user says that was wrong: it should have abstained
            yield case | {"kind": "unanswerable", "answers": [], "sources": [], "history": history, "answerable": False}
        else:
            yield f"{case['id']}: a 👎 on an abstention without a correction says nothing to test; skipped"


def _answer_key(entry: dict) -> str:
    parts = [entry.get("question", ""), entry.get("answer", ""), entry.get("history") or []]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
