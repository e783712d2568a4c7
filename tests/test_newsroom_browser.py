"""The newsroom in a real headless Chromium: a new user uploads dated articles from two outlets, lists and
searches them, asks within one outlet and a date range, gives a 👎 with the right answer, removes an
article; `rag feedback export` then yields an evaluation record `rag eval` accepts (the issue's "done when")."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
import pytest

from rag.evaluation.dataset import load_cases
from tests.conftest import write
from tests.servers import RAG, running_server
from tests.test_browser import SCREENSHOTS, ask, browser, expect, page  # noqa: F401 - the fixtures are shared
from tests.test_filters import DATED, PIERS

pytestmark = pytest.mark.slow  # a real server and Chromium


def fill(tab, element_id: str, text: str) -> None:
    box = tab.locator(f"#{element_id} textarea, #{element_id} input").first
    box.fill(text)
    box.press("Enter")


def test_upload_filter_feedback_remove_and_export(page, tmp_path):  # noqa: F811 - the page fixture
    corpus = tmp_path / "to-upload"
    corpus.mkdir()
    files = [write(corpus, name, text) for name, text in DATED.items()]
    data_dir = tmp_path / "data"
    with running_server(data_dir) as url:  # a new user: nothing indexed yet
        page.goto(url, wait_until="load")
        expect(page.locator("#index-note")).to_contain_text("0 articles")
        page.get_by_text("Articles: add, search, remove").click()
        page.locator("#upload input[type=file]").set_input_files([str(f) for f in files])
        expect(page.locator("#upload").get_by_role("row")).to_have_count(3)  # all three are uploaded
        page.locator("#add-articles").click()
        expect(page.locator("#upload-status")).to_contain_text("Added 3 article(s)", timeout=300_000)
        listing = page.locator("#article-list")
        for shown in ("Storm Closes Piers", "Daily Ledger", "2025-03-02", "coast-apr.txt"):
            expect(listing).to_contain_text(shown)
        expect(page.locator("#index-note")).to_contain_text("3 articles")

        fill(page, "article-search", "ledger")
        expect(listing).not_to_contain_text("coast-feb.md")
        expect(listing).to_contain_text("ledger-mar.txt")
        fill(page, "article-search", "")
        expect(listing).to_contain_text("coast-feb.md")

        fill(page, "since", "2025-02-01")
        fill(page, "until", "2025-03-31")
        outlets = page.locator("#outlets input").first
        outlets.click()
        page.get_by_role("option", name="Coast Times").click()
        page.locator("#question textarea").click()  # close the dropdown
        ask(page, PIERS)
        sources = page.locator("#sources")
        expect(sources).to_contain_text("coast-feb.md")
        expect(sources).to_contain_text("11 Feb 2025")
        expect(sources).to_contain_text("Coast Times")
        expect(sources).not_to_contain_text("ledger-mar.txt")
        expect(sources).not_to_contain_text("coast-apr.txt")
        expect(page.locator("#chat")).to_contain_text("(11 Feb 2025)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "newsroom-filtered.png"), full_page=True)

        page.locator("#chat").get_by_role("button", name="Dislike").last.click()
        expect(page.locator("#feedback-note")).to_contain_text("👎 stored")
        fill(page, "correction", "seven piers")
        page.locator("#send-correction").click()
        expect(page.locator("#feedback-note")).to_contain_text("correction is stored")

        page.locator("#remove-choice input").first.click()
        page.get_by_role("option", name="Storm Closes Piers (coast-feb.md)").click()
        page.locator("#remove-article").click()
        expect(page.locator("#remove-status")).to_contain_text("removed coast-feb.md")
        expect(page.locator("#remove-status")).to_contain_text("uploaded file was deleted")
        expect(listing).not_to_contain_text("coast-feb.md")
        assert "coast-feb.md" not in {a["source"] for a in httpx.get(f"{url}/api/articles", timeout=60).json()}

    verdicts = [json.loads(line) for line in (data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [v["verdict"] for v in verdicts] == ["down", "down"]
    assert verdicts[-1]["correction"] == "seven piers" and verdicts[-1]["citations"][0]["source"] == "coast-feb.md"
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [RAG, "feedback", "export", "--data-dir", str(data_dir)], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr
    (record,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert record["question"] == PIERS and record["answers"] == ["seven piers"]
    assert record["sources"] == ["coast-apr.txt"] and record["answerable"] is True
    questions = tmp_path / "from-feedback.jsonl"
    questions.write_text(run.stdout, encoding="utf-8")
    assert [case.question for case in load_cases(questions)] == [PIERS]
