"""The chat page in a real headless Chromium: ask, see the cited source, follow up; HTML stays text."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag import Assistant, Settings
from tests.conftest import REPO, SEEDS, write
from tests.servers import ingest, running_server
from ui.examples import example_questions

pytestmark = pytest.mark.slow  # real servers and Chromium

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO / "artifacts" / "browser"  # git-ignored; CI keeps it as an artifact

if not Path(CHROMIUM).exists():
    reason = "Debian's chromium is not installed (scripts/test.sh installs it)"
    if os.environ.get("CI"):
        raise RuntimeError(reason)  # in CI the browser test must run, not skip
    pytest.skip(reason, allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
expect.set_options(timeout=60_000)  # a busy 2-core machine can take seconds per answer


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def ask(page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


@pytest.fixture(scope="module")
def seeds_data(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    ingest(data_dir, SEEDS)
    return data_dir


@pytest.fixture(scope="module")
def seeds_server(seeds_data):
    with running_server(seeds_data) as url:
        yield url


def test_ask_see_sources_and_follow_up(page, seeds_server, seeds_data):
    page.goto(seeds_server, wait_until="load")
    expect(page.locator("#index-note")).to_contain_text("5 articles")
    examples = example_questions(Assistant(Settings(data_dir=seeds_data)).openings())  # made from the articles
    assert examples
    expect(page.get_by_text(examples[0]).first).to_be_visible()

    ask(page, "Who is Pakistan's envoy to the UN?")
    sources = page.locator("#sources")
    expect(sources.locator("[data-testid='short-answer']")).to_contain_text("Munir Akram")
    expect(sources).to_contain_text("002_663675794b460625.txt")
    expect(page.locator("#chat")).to_contain_text("Munir Akram")
    expect(sources.locator("mark").first).to_contain_text("Munir Akram")
    if os.environ.get("RAG_SCREENSHOT"):  # the README's picture: RAG_SCREENSHOT=docs/images/chat.png
        page.screenshot(path=os.environ["RAG_SCREENSHOT"])
    link = sources.get_by_text("open the whole article").first
    assert link.get_attribute("href").startswith("/api/articles/002_663675794b460625.txt")

    ask(page, "What did he claim about ISIS-K?")
    expect(page.locator("#chat .message-row, #chat [data-testid='bot']")).not_to_have_count(0)
    expect(page.locator("#chat")).to_contain_text("What did he claim about ISIS-K?")
    expect(page.locator("#chat")).not_to_contain_text("Searching the articles")
    expect(sources).to_contain_text("002_663675794b460625.txt")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chat-follow-up.png"), full_page=True)

    article = page.context.new_page()
    article.goto(seeds_server + link.get_attribute("href"), wait_until="load")
    expect(article.locator("mark#quote")).to_contain_text("Munir Akram")


def test_abstention_is_rendered_plainly(page, seeds_server):
    page.goto(seeds_server, wait_until="load")
    ask(page, "Who won the 2022 FIFA World Cup?")
    expect(page.locator("#sources [data-testid='abstained']")).to_contain_text("The articles don't cover this")
    expect(page.locator("#chat")).to_contain_text("The articles don't cover this")


HOSTILE = """Harbour <script>window.__xss = 1</script> Reopens

The harbour master said <img src=x onerror="window.__xss = 2"> the storm closed three piers on Monday.
Officials confirmed that <b>repairs</b> will take a whole week to finish.
"""


def test_html_in_articles_and_questions_is_shown_as_text_never_run(page, tmp_path):
    corpus = tmp_path / "hostile"
    corpus.mkdir()
    write(corpus, "hostile.txt", HOSTILE)
    data_dir = tmp_path / "data"
    ingest(data_dir, corpus)
    with running_server(data_dir) as url:
        page.goto(url, wait_until="load")
        ask(page, "How many piers did the storm close?")
        sources = page.locator("#sources")
        expect(sources).to_contain_text('<img src=x onerror="window.__xss = 2">')
        expect(sources).to_contain_text("<script>window.__xss = 1</script>")
        expect(page.locator("#chat")).to_contain_text("<img src=x onerror=")
        ask(page, 'What about <img src=y onerror="window.__xss = 3"> repairs?')
        expect(page.locator("#chat")).to_contain_text('<img src=y onerror="window.__xss = 3">')
        page.wait_for_timeout(500)
        assert page.evaluate("window.__xss") is None
        assert page.locator("img[src='x'], img[src='y'], #chat b, #sources b").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "html-as-text.png"), full_page=True)
