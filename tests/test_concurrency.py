"""Questions answered while an ingest rewrites the index see the old index or the new one, never a mix."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag import Assistant, Settings
from tests.conftest import write

pytestmark = pytest.mark.slow  # the real model

TOWNS = [f"{name}{suffix}" for name in ("Arden", "Bexley", "Corran", "Dunmore", "Elstow") for suffix in "abcdefgh"]


def harbour(town: str, day: str) -> str:
    return (
        f"{town} Harbour News\n\n"
        f"The harbour of {town} reopened on {day} after a week of storm repairs. "
        f"Fishing boats from {town} went back to sea the same morning.\n"
        f"The mayor of {town} thanked the workers who rebuilt three piers.\n"
    )


def write_edition(corpus, day: str) -> None:
    for town in TOWNS:
        write(corpus, f"{town.lower()}.txt", harbour(town, day))


def days_seen(assistant: Assistant) -> set[str]:
    """Which edition each retrieved sentence comes from, over every candidate the question retrieves."""
    ranked = assistant.ranked("On which day did the harbour reopen after the storm repairs?")
    return {day for s in ranked for day in ("Monday", "Friday") if f"reopened on {day}" in s.sentence.text}


def test_questions_during_an_ingest_see_one_edition_of_the_index(tmp_path, corpus):
    write_edition(corpus, "Monday")
    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus=[corpus], top_k=8, top_sentences=16))
    assistant.ingest(progress=False)
    assert days_seen(assistant) == {"Monday"}

    write_edition(corpus, "Friday")
    done = threading.Event()
    seen: list[set[str]] = []
    errors: list[BaseException] = []

    def ask_until_done():
        while not done.is_set():
            try:
                seen.append(days_seen(assistant))
            except BaseException as failure:  # any error at all fails the test
                errors.append(failure)
                return

    with ThreadPoolExecutor(max_workers=3) as pool:
        askers = [pool.submit(ask_until_done) for _ in range(2)]
        assistant.ask("When did the harbour of Ardena reopen?")
        try:
            report = pool.submit(assistant.ingest, None, False).result(timeout=600)
        finally:
            done.set()
        for asker in askers:
            asker.result(timeout=120)
    seen.append(days_seen(assistant))
    print(f"\n{len(seen)} retrievals during and after the ingest: {[sorted(s) for s in seen]}")
    assert errors == []
    assert report.errors == [] and report.files == len(TOWNS)
    assert all(s in ({"Monday"}, {"Friday"}) for s in seen)  # one edition or the other, never both
    assert seen[-1] == {"Friday"}
